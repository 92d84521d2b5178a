/** The Med-RwR protocol tags. `retrieve` is written by the loop, never by the model. */
export const PROTOCOL_TAGS = ['think', 'query', 'answer', 'retrieve'] as const;
export type ProtocolTag = (typeof PROTOCOL_TAGS)[number];

export function isProtocolTag(name: string): name is ProtocolTag {
  return (PROTOCOL_TAGS as readonly string[]).includes(name);
}

/**
 * Spellings of one tag that end a generation inside the engine (stop strings are exact there). Case and the usual
 * whitespace slips are covered; rarer variants are still recognised by the parser, which then records an anomaly.
 */
function tagVariants(name: string, closing: boolean): string[] {
  const cases = [name, name[0]!.toUpperCase() + name.slice(1), name.toUpperCase()];
  const out: string[] = [];
  for (const n of cases) {
    if (closing) out.push(`</${n}>`, `</ ${n}>`, `</${n} >`, `< /${n}>`);
    else out.push(`<${n}>`, `< ${n}>`, `<${n} >`);
  }
  return out;
}

/** Stops for a reasoning step: the model closed a query (retrieve now) or opened its answer (probe now). */
export const REASONING_STOPS: readonly string[] = [...tagVariants('query', true), ...tagVariants('answer', false)];

/** Stops for the answer body. */
export const ANSWER_STOPS: readonly string[] = tagVariants('answer', true);
