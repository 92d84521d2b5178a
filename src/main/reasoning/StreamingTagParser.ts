import type { SegmentKind } from '../../shared/contract';
import { isProtocolTag, type ProtocolTag } from './protocolTags';

export type AnomalyKind =
  /** A tag spelled other than `<tag>` / `</tag>` (case, inner spaces). */
  | 'non-canonical-tag'
  /** A tag was closed because another one opened, or because an outer tag closed first. */
  | 'implicit-close'
  /** A closing tag with nothing open to close; it is ignored. */
  | 'unmatched-close'
  /** A tag opened inside itself; the inner opening is ignored. */
  | 'nested-open'
  /** The model wrote a `<retrieve>` block itself; its content is not knowledge. */
  | 'model-retrieve'
  /** The stream ended with tags still open. */
  | 'unclosed-at-end';

export type ParserEvent =
  | { type: 'open'; tag: ProtocolTag; raw: string; offset: number }
  | { type: 'close'; tag: ProtocolTag; raw: string; offset: number; content: string; implicit: boolean }
  | { type: 'text'; segment: SegmentKind; text: string }
  | { type: 'anomaly'; kind: AnomalyKind; detail: string; offset: number };

/** Tags that may stay open while another opens inside them (Med-RwR models often query mid-thought). */
const MAY_CONTAIN: Partial<Record<ProtocolTag, readonly ProtocolTag[]>> = { think: ['query'] };

const MAX_INNER_SPACES = 3;
const MAX_NAME = 12;
const COMPLETE_TAG = new RegExp(
  `^<[ \\t]{0,${MAX_INNER_SPACES}}(/?)[ \\t]{0,${MAX_INNER_SPACES}}([A-Za-z]{1,${MAX_NAME}})[ \\t]{0,${MAX_INNER_SPACES}}>`,
);
const PARTIAL_TAG = new RegExp(
  `^<[ \\t]{0,${MAX_INNER_SPACES}}/?[ \\t]{0,${MAX_INNER_SPACES}}([A-Za-z]{0,${MAX_NAME}})([ \\t]{0,${MAX_INNER_SPACES}})$`,
);

type Classified =
  | { kind: 'tag'; length: number; closing: boolean; tag: ProtocolTag; raw: string }
  | { kind: 'partial' }
  | { kind: 'text' };

function classify(buffer: string): Classified {
  const complete = COMPLETE_TAG.exec(buffer);
  if (complete) {
    const name = complete[2]!.toLowerCase();
    if (!isProtocolTag(name)) return { kind: 'text' };
    return { kind: 'tag', length: complete[0].length, closing: complete[1] === '/', tag: name, raw: complete[0] };
  }
  const partial = PARTIAL_TAG.exec(buffer);
  if (!partial) return { kind: 'text' };
  const letters = partial[1]!.toLowerCase();
  const spacesAfter = partial[2]!.length > 0;
  const possible = ['think', 'query', 'answer', 'retrieve'].some((t) =>
    spacesAfter ? t === letters : t.startsWith(letters),
  );
  return possible ? { kind: 'partial' } : { kind: 'text' };
}

function segmentOf(tag: ProtocolTag | undefined): SegmentKind {
  return tag === 'think' || tag === 'query' || tag === 'answer' ? tag : 'other';
}

/**
 * Incremental parser of the Med-RwR protocol in generated text. Feed it tokens as they arrive; tags split across
 * tokens are held back only until they can be decided, so text reaches the UI without delay. Tags are recognised
 * whatever their case or inner spacing; every irregularity becomes an `anomaly` event and the parser always ends in a
 * defined state (the open-tag stack), never in an exception.
 */
export class StreamingTagParser {
  #pending = '';
  #offset = 0;
  readonly #stack: { tag: ProtocolTag; content: string }[] = [];

  /** The innermost open tag, if any. */
  get openTag(): ProtocolTag | null {
    return this.#stack.at(-1)?.tag ?? null;
  }

  /** Text collected so far inside the innermost open tag. */
  get openContent(): string {
    return this.#stack.at(-1)?.content ?? '';
  }

  get openTags(): ProtocolTag[] {
    return this.#stack.map((s) => s.tag);
  }

  push(chunk: string): ParserEvent[] {
    const events: ParserEvent[] = [];
    this.#pending += chunk;
    for (;;) {
      const lt = this.#pending.indexOf('<');
      if (lt === -1) {
        this.#text(this.#pending, events);
        this.#pending = '';
        return events;
      }
      if (lt > 0) {
        this.#text(this.#pending.slice(0, lt), events);
        this.#pending = this.#pending.slice(lt);
      }
      const c = classify(this.#pending);
      if (c.kind === 'partial') return events;
      if (c.kind === 'text') {
        this.#text('<', events);
        this.#pending = this.#pending.slice(1);
        continue;
      }
      this.#pending = this.#pending.slice(c.length);
      this.#tag(c, events);
      this.#offset += c.length;
    }
  }

  /** Releases a held-back partial tag as plain text (end of a generation, or before the loop appends text). */
  flush(): ParserEvent[] {
    const events: ParserEvent[] = [];
    if (this.#pending) this.#text(this.#pending, events);
    this.#pending = '';
    return events;
  }

  /** Closes `tag` (and anything inside it) on the loop's behalf, e.g. a query the model ended without `</query>`. */
  forceClose(tag: ProtocolTag): ParserEvent[] {
    const events = this.flush();
    const depth = this.#stack.findLastIndex((s) => s.tag === tag);
    if (depth >= 0) this.#popTo(depth, `</${tag}>`, true, events);
    return events;
  }

  /** Ends the stream: flushes, and reports tags left open (they stay open: the state is what the model left). */
  finish(): ParserEvent[] {
    const events = this.flush();
    if (this.#stack.length > 0) {
      events.push({
        type: 'anomaly',
        kind: 'unclosed-at-end',
        detail: `expected every tag closed, found open: ${this.#stack.map((s) => s.tag).join(' > ')}`,
        offset: this.#offset,
      });
    }
    return events;
  }

  #text(text: string, events: ParserEvent[]): void {
    if (!text) return;
    const top = this.#stack.at(-1);
    if (top) top.content += text;
    this.#offset += text.length;
    const segment = segmentOf(top?.tag);
    const last = events.at(-1);
    if (last?.type === 'text' && last.segment === segment) last.text += text;
    else events.push({ type: 'text', segment, text });
  }

  #tag(c: Extract<Classified, { kind: 'tag' }>, events: ParserEvent[]): void {
    const canonical = c.closing ? `</${c.tag}>` : `<${c.tag}>`;
    if (c.raw !== canonical) {
      events.push({
        type: 'anomaly',
        kind: 'non-canonical-tag',
        detail: `expected ${canonical}, found ${JSON.stringify(c.raw)}`,
        offset: this.#offset,
      });
    }
    if (c.closing) {
      const depth = this.#stack.findLastIndex((s) => s.tag === c.tag);
      if (depth === -1) {
        events.push({
          type: 'anomaly',
          kind: 'unmatched-close',
          detail: `expected an open <${c.tag}> to close, found ${this.openTag ? `<${this.openTag}> open` : 'none open'}`,
          offset: this.#offset,
        });
        return;
      }
      this.#popTo(depth, c.raw, false, events);
      return;
    }
    if (this.#stack.some((s) => s.tag === c.tag)) {
      events.push({
        type: 'anomaly',
        kind: 'nested-open',
        detail: `expected </${c.tag}> before another <${c.tag}>, found a second opening`,
        offset: this.#offset,
      });
      return;
    }
    for (let top = this.#stack.at(-1); top && !(MAY_CONTAIN[top.tag] ?? []).includes(c.tag); top = this.#stack.at(-1)) {
      events.push({
        type: 'anomaly',
        kind: 'implicit-close',
        detail: `expected </${top.tag}> before <${c.tag}>, found none; closed it`,
        offset: this.#offset,
      });
      this.#popTo(this.#stack.length - 1, '', true, events);
    }
    if (c.tag === 'retrieve') {
      events.push({
        type: 'anomaly',
        kind: 'model-retrieve',
        detail: 'expected the model to wait for retrieval, found a <retrieve> block written by the model',
        offset: this.#offset,
      });
    }
    this.#stack.push({ tag: c.tag, content: '' });
    events.push({ type: 'open', tag: c.tag, raw: c.raw, offset: this.#offset });
  }

  #popTo(depth: number, raw: string, implicit: boolean, events: ParserEvent[]): void {
    while (this.#stack.length > depth) {
      const block = this.#stack.pop()!;
      const isTarget = this.#stack.length === depth;
      if (!isTarget && !implicit) {
        events.push({
          type: 'anomaly',
          kind: 'implicit-close',
          detail: `expected </${block.tag}> before ${raw}, found none; closed it`,
          offset: this.#offset,
        });
      }
      events.push({
        type: 'close',
        tag: block.tag,
        raw: isTarget ? raw : '',
        offset: this.#offset,
        content: block.content,
        implicit: implicit || !isTarget,
      });
    }
  }
}
