/**
 * Text the loop writes into the model's transcript: retrieved passages, the CDIR turn, the user's question.
 * Anything not written by the loop itself is escaped so that it can never open or close a protocol tag, smuggle in a
 * media marker, or spell a chat-template control token (`<|im_end|>`, `<end_of_turn>`, `</s>`): every `<` and `>` of
 * foreign text becomes an HTML entity, which models read as the character it stands for.
 */
export function escapeForTranscript(text: string): string {
  return text.replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Passage text as it goes into `<retrieve>`: escaped, whitespace collapsed (as Med-RwR's retriever did). */
export function passageForTranscript(text: string): string {
  return escapeForTranscript(text).replace(/\s+/g, ' ').trim();
}

/**
 * The loop's answer to a query: `<retrieve> (1) … (2) … (3) … </retrieve>` as in Med-RwR's released code, or
 * `<retrieve> None </retrieve>` when nothing was retrieved (no hits, an empty query, a refused query).
 */
export function formatRetrieveBlock(passages: readonly string[]): string {
  if (passages.length === 0) return '<retrieve> None </retrieve>\n';
  const body = passages.map((p, i) => `(${i + 1}) ${passageForTranscript(p)}\n`).join('');
  return `<retrieve> ${body} </retrieve>\n`;
}

/** Med-RwR's fixed query for the similar-case turn. */
export const CDIR_QUERY = 'consultation from similar medical imaging case';

/**
 * The confidence-driven image re-retrieval turn, worded as in Med-RwR's released code; the similar case's image
 * goes where that code wrote a literal `<image>`, as a real second image (`mediaMarker`).
 */
export function formatCdirTurn(consultation: string, mediaMarker: string): string {
  return (
    '<think> I need to find a consultation from a case with similar medical imaging findings to provide relevant ' +
    'context and reference. I will use the consultation with previously retrieved information to generate the ' +
    'answer. </think>\n' +
    `<query> ${CDIR_QUERY} </query>\n` +
    `<retrieve> ${mediaMarker} ${passageForTranscript(consultation)} </retrieve>\n`
  );
}

/** The model's query as sent to search: quotes dropped and whitespace collapsed (as Med-RwR did). */
export function normaliseQuery(raw: string): string {
  return raw.replace(/["“”]/g, '').replace(/\s+/g, ' ').trim();
}
