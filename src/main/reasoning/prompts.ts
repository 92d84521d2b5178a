import type { ReasoningMode } from '../../shared/contract';
import type { ChatMessage, ModelImageInput } from '../engine/ports';
import { escapeForTranscript } from './transcriptText';

const RETRIEVAL_RULES = `First look at the image, then reason about the question{each} inside <think> </think> tags. While reasoning, you may ask for medical knowledge by writing one search query inside <query> </query> tags; an external agent then returns passages inside <retrieve> </retrieve> tags.
You may use the retrieved passages, keep reasoning, and query again if you still need information. When you can conclude, write your answer inside <answer> </answer> tags.
Use one of these formats:
1. When you need more information: <think> ... </think>\\n<query> ... </query>\\n<retrieve> ... </retrieve>\\n (several think-query-retrieve cycles may follow)
2. When you can conclude without a query: <think> ... </think>\\n<answer> ... </answer>`;

const DIRECT_RULES = `First look at the image, then reason about the question{each} inside <think> </think> tags, and write your answer inside <answer> </answer> tags.
Use this format: <think> ... </think>\\n<answer> ... </answer>`;

/**
 * The Med-RwR system prompt in the project's own words: the model is a medical expert, thinks in <think>, may query
 * in <query>, reads <retrieve>, concludes in <answer>. `direct` mode (the no-retrieval ablation) leaves the query
 * instructions out.
 */
export function systemPrompt(options: { mode: ReasoningMode; closed: boolean; hasImage: boolean }): string {
  const given = options.hasImage ? 'an image and a question' : 'a question';
  const task = options.closed
    ? `You are an experienced expert in medicine. You are given ${given} with a list of choices, and you must select the correct choice.`
    : `You are an experienced expert in medicine. You are given ${given}, and you must answer the question concisely.`;
  const rules = (options.mode === 'direct' ? DIRECT_RULES : RETRIEVAL_RULES)
    .replace('{each}', options.closed ? ' and each choice' : '')
    .replace('First look at the image, then reason', options.hasImage ? 'First look at the image, then reason' : 'Reason');
  return `${task}\n${rules}`;
}

/** Letters for choices: A, B, C… */
export function choiceLetter(index: number): string {
  return String.fromCharCode(65 + index);
}

/** The user turn: the study image (when there is one), the question and the lettered choices. */
export function userMessage(question: string, choices: readonly string[] | null, image: ModelImageInput | null): ChatMessage {
  const lines = [escapeForTranscript(question.trim())];
  if (choices && choices.length > 0) {
    lines.push('Choices:', ...choices.map((c, i) => `${choiceLetter(i)}. ${escapeForTranscript(c.trim())}`));
  }
  return { role: 'user', content: lines.join('\n'), ...(image ? { images: [image] } : {}) };
}

export function buildMessages(options: {
  mode: ReasoningMode;
  question: string;
  choices: readonly string[] | null;
  image: ModelImageInput | null;
}): ChatMessage[] {
  const closed = (options.choices?.length ?? 0) > 0;
  return [
    { role: 'system', content: systemPrompt({ mode: options.mode, closed, hasImage: options.image !== null }) },
    userMessage(options.question, options.choices, options.image),
  ];
}

const YES_NO_START =
  /^(is|are|was|were|does|do|did|can|could|has|have|had|will|would|should|shall|may|might|must)\b/i;

/**
 * The options of a closed question for option-mass confidence: the given choices, or yes/no for a question that
 * reads as one ("Is there…", "Does the…"), as in VQA-RAD's closed questions. Null for an open question.
 */
export function closedOptions(question: string, choices: readonly string[] | null | undefined): string[] | null {
  if (choices && choices.length > 0) return [...choices];
  const q = question.trim();
  if (YES_NO_START.test(q) && !/\b(or)\b/i.test(q)) return ['yes', 'no'];
  return null;
}
