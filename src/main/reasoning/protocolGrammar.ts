import { choiceLetter } from './prompts';

/**
 * GBNF grammars (llama.cpp) that keep decoding inside the Med-RwR protocol. Each generation call of the loop gets the
 * grammar of what may come next, so a small model cannot wander out of the protocol; the model's confidence is still
 * probed without the grammar (see `ReasonerSession.probeNextToken`). Every segment is bounded, so a model that never
 * closes a tag on its own (a random or looping one) is made to close it and move on: at most `thinkChars` of thought
 * per reasoning step, then a query or the answer.
 */
export interface ProtocolGrammarOptions {
  /** Character class of free text inside tags. Defaults to `[^<]` (anything that cannot start a tag). */
  textClass?: string;
  /** Length bounds of the text inside `<think>` (null: unbounded). Defaults to [1, 2000]. */
  thinkChars?: [number, number | null];
  /** Defaults to [1, 300]. */
  queryChars?: [number, number | null];
  /** Length bounds of a free-text answer. Defaults to [1, 400]. */
  answerChars?: [number, number | null];
}

/** Characters of thought per reasoning step and of one query, when the settings do not say (`reasoning.grammar…`). */
export const DEFAULT_THINK_CHARS = 2000;
export const DEFAULT_QUERY_CHARS = 300;

export interface ProtocolGrammar {
  /** What a reasoning step may write: a thought, then a query (when allowed) or the opening of the answer. */
  reasoning(options: {
    allowQuery: boolean;
    requireQuery: boolean;
    /** Retrieval rounds served so far in the run, and the attempt (2 = after CDIR); for grammars that script a run. */
    roundsServed?: number;
    attempt?: number;
    /** The loop has just closed a thought the model was looping in: only what follows `</think>` remains. */
    afterThink?: boolean;
    /** The loop has written the `<think>` this step must open with: the step starts inside the thought. */
    thinkOpened?: boolean;
  }): string;
  /** The answer body and its closing tag, given what was already generated of it (`prefix`). */
  answer(options: { choices: readonly string[] | null; prefix: string }): string;
}

export function literal(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

/** llama.cpp refuses a repetition count of 2000 or more ("exceeds sane defaults"). */
const MAX_REPEAT = 1999;
/** Longer bounds are built from blocks of this many characters. */
const BLOCK = 100;

/** A bounded text expression, with the named rules it needs. */
interface Bounded {
  expr: string;
  rules: string[];
}

function repeat(cls: string, [min, max]: [number, number | null]): string {
  if (max === null) return min <= 0 ? `${cls}*` : min === 1 ? `${cls}+` : `${cls}{${min},}`;
  if (max <= 0) return '""';
  return `${cls}{${Math.max(0, min)},${max}}`;
}

/**
 * `cls` repeated `min` to `max` times. Up to 1999 this is one repetition; beyond, `n` characters are written as q full
 * blocks and a shorter rest (a unique split), with the last block count taking only the rest that keeps n ≤ max.
 */
export function boundedText(name: string, cls: string, [min, max]: [number, number | null]): Bounded {
  const low = Math.max(0, min);
  if (low > MAX_REPEAT) throw new RangeError(`${name}: expected a minimum length ≤ ${MAX_REPEAT}, found ${low}`);
  if (max === null || max <= MAX_REPEAT) return { expr: repeat(cls, [low, max]), rules: [] };
  const span = max - low;
  const head = low > 0 ? `${cls}{${low}} ` : '';
  if (span <= MAX_REPEAT) return { expr: `${head}${cls}{0,${span}}`, rules: [] };
  const blocks = Math.floor(span / BLOCK);
  const rest = span % BLOCK;
  if (blocks > MAX_REPEAT) throw new RangeError(`${name}: expected a maximum length < ${(MAX_REPEAT + 1) * BLOCK}, found ${max}`);
  const block = `${name}-block`;
  const upTo = `${name}-upto`;
  const full = `${block}{${blocks}}${rest > 0 ? ` ${cls}{0,${rest}}` : ''}`;
  return {
    expr: `${head}${upTo}`,
    rules: [`${block} ::= ${cls}{${BLOCK}}`, `${upTo} ::= ${block}{0,${blocks - 1}} ${cls}{0,${BLOCK - 1}} | ${full}`],
  };
}

export function createProtocolGrammar(options: ProtocolGrammarOptions = {}): ProtocolGrammar {
  const text = options.textClass ?? '[^<]';
  const think = boundedText('think-text', text, options.thinkChars ?? [1, DEFAULT_THINK_CHARS]);
  const query = boundedText('query-text', text, options.queryChars ?? [1, DEFAULT_QUERY_CHARS]);
  const answer = options.answerChars ?? [1, 400];
  return {
    reasoning({ allowQuery, requireQuery, afterThink = false, thinkOpened = false }) {
      const tail = requireQuery ? 'query' : allowQuery ? '(query | "<answer>")' : '"<answer>"';
      const thought = `${think.expr} "</think>" ws ${tail}`;
      return [
        afterThink ? `root ::= ws ${tail}` : thinkOpened ? `root ::= ${thought}` : `root ::= ws "<think>" ${thought}`,
        `query ::= "<query>" ${query.expr} "</query>"`,
        'ws ::= [ \\n]{0,2}',
        ...(afterThink ? [] : think.rules),
        ...query.rules,
      ].join('\n');
    },
    answer({ choices, prefix }) {
      if (choices && choices.length > 0) {
        const bodies = choices.flatMap((c, i) => [choiceLetter(i), c.trim()]);
        const complete = [...new Set(bodies.flatMap((b) => [b, ` ${b}`]).flatMap((b) => [b, `${b} `]))].map(
          (b) => `${b}</answer>`,
        );
        const rest = complete.filter((c) => c.startsWith(prefix)).map((c) => c.slice(prefix.length));
        if (rest.length > 0) return `root ::= ${[...new Set(rest)].map(literal).join(' | ')}`;
      }
      const used = prefix.length;
      const bounds: [number, number | null] = [Math.max(answer[0] - used, 0), answer[1] === null ? null : Math.max(answer[1] - used, 0)];
      const body = boundedText('answer-text', text, bounds);
      return [`root ::= ${body.expr} "</answer>"`, ...body.rules].join('\n');
    },
  };
}
