import { choiceLetter } from './prompts';

/**
 * GBNF grammars (llama.cpp) that keep decoding inside the Med-RwR protocol. Each generation call of the loop gets the
 * grammar of what may come next, so a small model cannot wander out of the protocol; the model's confidence is still
 * probed without the grammar (see `ReasonerSession.probeNextToken`).
 */
export interface ProtocolGrammarOptions {
  /** Character class of free text inside tags. Defaults to `[^<]` (anything that cannot start a tag). */
  textClass?: string;
  /** Length bounds of the text inside `<think>`. Defaults to [1, unbounded]. */
  thinkChars?: [number, number | null];
  /** Defaults to [1, 200]. */
  queryChars?: [number, number | null];
  /** Length bounds of a free-text answer. Defaults to [1, 400]. */
  answerChars?: [number, number | null];
}

export interface ProtocolGrammar {
  /** What a reasoning step may write: a thought, then a query (when allowed) or the opening of the answer. */
  reasoning(options: {
    allowQuery: boolean;
    requireQuery: boolean;
    /** Retrieval rounds served so far in the run, and the attempt (2 = after CDIR); for grammars that script a run. */
    roundsServed?: number;
    attempt?: number;
  }): string;
  /** The answer body and its closing tag, given what was already generated of it (`prefix`). */
  answer(options: { choices: readonly string[] | null; prefix: string }): string;
}

export function literal(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

function repeat(cls: string, [min, max]: [number, number | null]): string {
  if (max === null) return min <= 0 ? `${cls}*` : min === 1 ? `${cls}+` : `${cls}{${min},}`;
  if (max <= 0) return '""';
  return `${cls}{${Math.max(0, min)},${max}}`;
}

export function createProtocolGrammar(options: ProtocolGrammarOptions = {}): ProtocolGrammar {
  const text = options.textClass ?? '[^<]';
  const think = options.thinkChars ?? [1, null];
  const query = options.queryChars ?? [1, 200];
  const answer = options.answerChars ?? [1, 400];
  return {
    reasoning({ allowQuery, requireQuery }) {
      const tail = requireQuery ? 'query' : allowQuery ? '(query | "<answer>")' : '"<answer>"';
      return [
        `root ::= ws "<think>" ${repeat(text, think)} "</think>" ws ${tail}`,
        `query ::= "<query>" ${repeat(text, query)} "</query>"`,
        'ws ::= [ \\n]{0,2}',
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
      return `root ::= ${repeat(text, bounds)} "</answer>"`;
    },
  };
}
