import { GgufValueType } from '../gguf/ggufFormat';
import { readGguf } from '../gguf/readGguf';

const TOKEN_NORMAL = 1;
const TOKEN_UNKNOWN = 2;
const TOKEN_CONTROL = 3;
const TOKEN_USER_DEFINED = 4;
const TOKEN_BYTE = 6;

/** GPT-2's byte ↔ printable-unicode table, used by BPE vocabularies to store raw bytes as text. */
function gpt2ByteDecoder(): Map<string, number> {
  const bytes: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bytes.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bytes.push(b);
  for (let b = 0xae; b <= 0xff; b++) bytes.push(b);
  const chars = [...bytes];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(256 + n++);
    }
  }
  return new Map(bytes.map((b, i) => [String.fromCodePoint(chars[i]!), b]));
}

/**
 * Token id ↔ text as @fugood/llama.node reports tokens in `completion_probabilities` (llama.cpp's server formatting:
 * the token's piece, or "byte: \xNN" for a lone non-ASCII byte). llama.node gives only that text, so the engine maps
 * it back to ids from the model's own vocabulary. Where two ids share a text (a byte token and a normal token for
 * the same character), the normal token wins.
 */
export class PieceTable {
  readonly #textById: string[];
  /** Ids per text, normal tokens first (a byte token can spell the same character). */
  readonly #idsByText = new Map<string, number[]>();

  private constructor(
    texts: string[],
    types: number[],
    /** The beginning-of-sequence token llama.cpp adds to a prompt (llama.node's text-only tokenize() leaves it out). */
    readonly bos: number | null,
  ) {
    this.#textById = texts;
    texts.forEach((text, id) => {
      const ids = this.#idsByText.get(text);
      if (!ids) this.#idsByText.set(text, [id]);
      else if (types[id] === TOKEN_NORMAL && types[ids[0]!] !== TOKEN_NORMAL) ids.unshift(id);
      else ids.push(id);
    });
  }

  static async fromGguf(path: string): Promise<PieceTable> {
    const file = await readGguf(path, { keepArraysUpTo: Number.MAX_SAFE_INTEGER });
    const tokens = file.metadata.get('tokenizer.ggml.tokens');
    const types = file.metadata.get('tokenizer.ggml.token_type');
    const model = file.metadata.get('tokenizer.ggml.model');
    const tokenList = tokens?.type === GgufValueType.ARRAY ? ((tokens.value ?? []) as string[]) : [];
    const typeList = types?.type === GgufValueType.ARRAY ? ((types.value ?? []) as number[]).map(Number) : [];
    const kind = model?.type === GgufValueType.STRING ? model.value : 'llama';
    const decoder = kind === 'gpt2' ? gpt2ByteDecoder() : null;
    const texts = tokenList.map((token, id) => {
      const type = typeList[id] ?? TOKEN_NORMAL;
      let bytes: Buffer;
      if (type === TOKEN_CONTROL || type === TOKEN_USER_DEFINED || type === TOKEN_UNKNOWN) {
        return token;
      } else if (type === TOKEN_BYTE && /^<0x[0-9A-Fa-f]{2}>$/.test(token)) {
        bytes = Buffer.from([parseInt(token.slice(3, 5), 16)]);
      } else if (decoder) {
        bytes = Buffer.from([...token].map((c) => decoder.get(c) ?? 0x3f));
      } else {
        bytes = Buffer.from(token.replaceAll('\u2581', ' '), 'utf8');
      }
      return bytes.length === 1 && (bytes[0]! & 0x80) !== 0 ? `byte: \\x${bytes[0]!.toString(16)}` : bytes.toString('utf8');
    });
    const addBos = file.metadata.get('tokenizer.ggml.add_bos_token');
    const bosId = file.metadata.get('tokenizer.ggml.bos_token_id');
    const adds = addBos?.type === GgufValueType.BOOL ? addBos.value : kind === 'llama';
    const bos = adds && bosId && bosId.type !== GgufValueType.ARRAY && bosId.type !== GgufValueType.STRING ? Number(bosId.value) : null;
    return new PieceTable(texts, typeList, bos);
  }

  get size(): number {
    return this.#textById.length;
  }

  /**
   * The id of a token as llama.node wrote it, or -1 when the text is not one token of this vocabulary. `occurrence`
   * picks among tokens that share the text: in a list sorted by probability, the k-th entry with a shared text is
   * taken to be the k-th of its ids (normal tokens first) — the best llama.node's text-only output allows.
   */
  idOf(text: string, occurrence = 0): number {
    const ids = this.#idsByText.get(text);
    return ids?.[Math.min(occurrence, ids.length - 1)] ?? -1;
  }

  /** The text llama.node writes for this token id. */
  textOf(id: number): string | null {
    return this.#textById[id] ?? null;
  }
}
