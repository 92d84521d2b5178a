import type { EvalItem } from '../datasets/EvalItem';
import { answerTokens, containsPhrase, normalizeAnswer, yesNoPolarity } from './normalizeAnswer';

export type ScoringRule = 'yes-no' | 'choice' | 'closed-phrase' | 'open-exact' | 'no-answer';

export interface AnswerScore {
  correct: boolean;
  /** Open questions: share of the reference's distinct tokens found in the answer (LLaVA-Med's recall). */
  recall: number | null;
  rule: ScoringRule;
  /** The option the answer was mapped to, for questions with options. */
  matchedChoice: string | null;
}

/** The scoring rules in words, printed in the report next to the numbers they produce. */
export const scoringDescription = [
  'Answers and references are normalised before comparison: NFKC, lower case, punctuation and hyphens to spaces, articles (a/an/the) dropped, number words up to twelve as digits.',
  'Closed yes/no questions (reference "yes" or "no"): correct when the first token of the answer (or of the option its letter label names) has the same polarity (yes/y/true or no/n/false).',
  'Closed questions with options: the answer is mapped to an option (same normalised text, a letter label such as "B)" or "(b)", or the one option it contains); correct when that option is the reference.',
  'Other closed questions (options only named in the question, e.g. "left or right?"): correct when the normalised reference appears as whole words in the answer or the answer in the reference.',
  'Open questions: exact match after normalisation (the accuracy of the classification-style VQA-RAD papers: MEVF, PubMedCLIP, M3AE) and token recall, the share of the reference’s tokens present in the answer (LLaVA-Med, Med-Flamingo style); only exact match counts as correct.',
  'A result that failed to run, or a model that gave no answer, counts as wrong.',
];

/** Scores one answer against the item's reference with the rules in `scoringDescription`. */
export function scoreAnswer(
  item: Pick<EvalItem, 'answer' | 'answerType' | 'choices'>,
  answer: string | null,
): AnswerScore {
  // No letter or digit at all is no answer ("A" alone is not empty: it may be an option's letter).
  if (answer === null || !/[\p{L}\p{N}]/u.test(answer)) {
    return { correct: false, recall: item.answerType === 'open' ? 0 : null, rule: 'no-answer', matchedChoice: null };
  }
  if (item.answerType === 'open') {
    return {
      correct: normalizeAnswer(answer) === normalizeAnswer(item.answer),
      recall: tokenRecall(item.answer, answer),
      rule: 'open-exact',
      matchedChoice: null,
    };
  }
  const referencePolarity = yesNoPolarity(item.answer);
  if (referencePolarity !== null && answerTokens(item.answer).length === 1) {
    // With options offered (e.g. A) yes, B) no) the model may answer by letter; otherwise by the word itself.
    const chosen = item.choices ? mapToChoice(answer, item.choices) : null;
    const polarity = yesNoPolarity(chosen ?? answer);
    return { correct: polarity === referencePolarity, recall: null, rule: 'yes-no', matchedChoice: polarity };
  }
  if (item.choices && item.choices.length > 0) {
    const matched = mapToChoice(answer, item.choices);
    const correct = matched !== null && normalizeAnswer(matched) === normalizeAnswer(item.answer);
    return { correct, recall: null, rule: 'choice', matchedChoice: matched };
  }
  const reference = answerTokens(item.answer);
  const given = answerTokens(answer);
  return {
    correct: containsPhrase(given, reference) || containsPhrase(reference, given),
    recall: null,
    rule: 'closed-phrase',
    matchedChoice: null,
  };
}

/** Share of the reference's distinct normalised tokens that appear in the answer; 0 for an empty reference. */
export function tokenRecall(reference: string, answer: string): number {
  const wanted = new Set(answerTokens(reference));
  if (wanted.size === 0) return 0;
  const given = new Set(answerTokens(answer));
  let found = 0;
  for (const token of wanted) if (given.has(token)) found++;
  return found / wanted.size;
}

const letterLabel = /^\s*\(?([a-z])(?:\)|[.:](?:\s|$)|$)/i;

/** The option an answer designates, or null when it names none or several. */
export function mapToChoice(answer: string, choices: string[]): string | null {
  const normalized = normalizeAnswer(answer);
  const exact = choices.find((c) => normalizeAnswer(c) === normalized);
  if (exact !== undefined) return exact;
  const letter = letterLabel.exec(answer)?.[1];
  if (letter !== undefined) {
    const index = letter.toLowerCase().charCodeAt(0) - 97;
    if (index < choices.length) return choices[index] ?? null;
  }
  const tokens = answerTokens(answer);
  const contained = choices.filter((c) => containsPhrase(tokens, answerTokens(c)));
  return contained.length === 1 ? (contained[0] ?? null) : null;
}
