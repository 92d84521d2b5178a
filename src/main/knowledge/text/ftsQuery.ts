/**
 * Turns free text (a model's `<query>`, a user's question) into a safe FTS5 MATCH expression: every term is quoted,
 * so FTS5 operators, quotes, parentheses, column filters and stray syntax in the query are data, never syntax.
 * Terms are OR-ed and ranked by bm25, which is what a question-shaped query needs.
 */
const stopWords = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both ' +
    'but by can could did do does doing down during each few for from further had has have having he her here hers ' +
    'him his how i if in into is it its itself just me more most my no nor not now of off on once only or other our ' +
    'out over own same she should so some such than that the their them then there these they this those through to ' +
    'too under until up very was we were what when where which while who whom why will with would you your yours ' +
    'also may might must shall us get got tell know please thank thanks hi hello dear'
  ).split(' '),
);

/** Defaults: at most 64 terms (longer queries add noise, not recall). */
export function toFtsQuery(text: string, maxTerms = 64): string | null {
  const terms: string[] = [];
  const seen = new Set<string>();
  for (const match of text
    .normalize('NFKC')
    .toLowerCase()
    .matchAll(/[\p{L}\p{N}]+/gu)) {
    const term = match[0];
    if (seen.has(term) || stopWords.has(term) || (term.length < 2 && !/\d/.test(term))) continue;
    seen.add(term);
    terms.push(term);
    if (terms.length >= maxTerms) break;
  }
  return terms.length === 0 ? null : terms.map((t) => `"${t}"`).join(' OR ');
}
