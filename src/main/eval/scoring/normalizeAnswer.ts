const numberWords: Record<string, string> = {
  zero: '0',
  none: '0',
  one: '1',
  single: '1',
  two: '2',
  three: '3',
  four: '4',
  five: '5',
  six: '6',
  seven: '7',
  eight: '8',
  nine: '9',
  ten: '10',
  eleven: '11',
  twelve: '12',
};

const articles = new Set(['a', 'an', 'the']);

/**
 * The answer normalisation used by every metric: Unicode NFKC, lower case, punctuation and hyphens to spaces,
 * articles dropped, number words up to twelve as digits, whitespace collapsed. "The T2-weighted image." → "t2 weighted
 * image"; "Two" → "2".
 */
export function normalizeAnswer(text: string): string {
  return answerTokens(text).join(' ');
}

/** The normalised answer as tokens (see `normalizeAnswer`). */
export function answerTokens(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]+/gu, ' ')
    .split(/\s+/)
    .filter((t) => t.length > 0 && !articles.has(t))
    .map((t) => numberWords[t] ?? t);
}

const yesWords = new Set(['yes', 'y', 'true']);
const noWords = new Set(['no', 'n', 'false']);

/** 'yes' or 'no' when the answer's first token says so, else null ("Yes, there is…" → 'yes'; "Likely" → null). */
export function yesNoPolarity(text: string): 'yes' | 'no' | null {
  const first = answerTokens(text)[0];
  if (first === undefined) return null;
  if (yesWords.has(first)) return 'yes';
  if (noWords.has(first)) return 'no';
  return null;
}

/** Whether `needle`'s tokens appear in `haystack` as one contiguous run of whole tokens. */
export function containsPhrase(haystack: string[], needle: string[]): boolean {
  if (needle.length === 0 || needle.length > haystack.length) return false;
  for (let start = 0; start + needle.length <= haystack.length; start++) {
    if (needle.every((token, i) => haystack[start + i] === token)) return true;
  }
  return false;
}
