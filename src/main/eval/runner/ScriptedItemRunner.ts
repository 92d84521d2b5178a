import { createHash } from 'node:crypto';
import type { ConfidenceReport, EvalRunnerIdentity } from '../../../shared/contract';
import { CancelledError } from '../../errors/AppError';
import { seededRandom } from '../datasets/selectItems';
import type { EvalItemRunner, ItemRunInput, ItemRunOutcome } from './ItemRunner';

export interface ScriptedRunnerOptions {
  /** Probability that the first attempt is right, per mode. Defaults to direct 0.55, rwr 0.65, rwr+cdir 0.65. */
  accuracy?: Partial<Record<string, number>>;
  /** Probability that a CDIR second attempt is right. Defaults to 0.7. */
  cdirAccuracy?: number;
  /** Milliseconds each item takes (honours the abort signal). Defaults to 0. */
  delayMs?: number;
  /** Called before each item; throw from it to simulate a loop failure. */
  beforeItem?: (input: ItemRunInput) => void;
}

const sources = ['MedQuAD', 'OpenStax Anatomy & Physiology 2e', 'IU X-ray reports'];

/**
 * A deterministic stand-in for the reasoning loop: answers, confidences, queries and CDIR decisions are a pure function
 * of (item id, mode, seed), so a resumed run reproduces exactly what an uninterrupted one would have produced. Used by
 * the tests and by `--dry-run`, which checks a dataset and the report pipeline without a model.
 */
export class ScriptedItemRunner implements EvalItemRunner {
  constructor(private readonly options: ScriptedRunnerOptions = {}) {}

  /** Simulated time per item, e.g. to rehearse cancel and resume from the CLI. */
  set delayMs(ms: number) {
    this.options.delayMs = ms;
  }

  async describe(): Promise<EvalRunnerIdentity> {
    return {
      kind: 'scripted',
      description:
        'scripted runner (dry run): answers are drawn from the reference with fixed odds, not produced by a model',
      models: [],
      knowledgeBase: null,
    };
  }

  async runItem(input: ItemRunInput): Promise<ItemRunOutcome> {
    this.options.beforeItem?.(input);
    const started = performance.now();
    if (this.options.delayMs) await sleep(this.options.delayMs, input.signal);
    if (input.signal.aborted) throw new CancelledError('scripted item');
    const { item, mode, seed, settings } = input;
    const random = seededRandom(hashSeed(`${item.id}|${mode}|${seed}`));
    const accuracy = this.options.accuracy?.[mode] ?? (mode === 'direct' ? 0.55 : 0.65);
    const attempt = (p: number): { answer: string; confidence: ConfidenceReport } => {
      const right = random() < p;
      const answer = right ? item.answer : wrongAnswer(item.answer, item.choices, random);
      // Right answers lean confident, wrong ones less so: a plausibly (not perfectly) calibrated model.
      const value = Math.min(0.999, Math.max(0.05, (right ? 0.72 : 0.5) + (random() - 0.5) * 0.5));
      return {
        answer,
        confidence: confidenceReport(value, item.choices !== null, settings.reasoning.confidenceSource),
      };
    };
    const first = attempt(accuracy);
    const queries =
      mode === 'direct'
        ? []
        : Array.from({ length: Math.floor(random() * (settings.retrieval.maxRounds + 1)) }, (_, i) => ({
            round: i + 1,
            query: `${item.question.replace(/\?$/, '')} (${i + 1})`,
            hitSources: Array.from(
              { length: settings.retrieval.k },
              () => sources[Math.floor(random() * sources.length)]!,
            ),
            hitIds: Array.from({ length: settings.retrieval.k }, () => Math.floor(random() * 5000)),
          }));
    const attempts = [first];
    let cdirTriggered = false;
    let similarCase: ItemRunOutcome['similarCase'] = null;
    if (mode === 'rwr+cdir' && (first.confidence.used ?? 1) < settings.reasoning.cdirThreshold) {
      cdirTriggered = true;
      if (random() < 0.9) {
        similarCase = { caseId: 1 + Math.floor(random() * 69), title: 'similar case', score: 0.5 + random() / 2 };
        attempts.push(attempt(this.options.cdirAccuracy ?? 0.7));
      }
    }
    const kept = attempts.at(-1)!;
    const totalMs = performance.now() - started;
    return {
      answer: kept.answer,
      confidence: kept.confidence,
      attempts,
      cdirTriggered,
      similarCase,
      queries,
      rounds: queries.length,
      endReason: 'answer',
      timings: { totalMs, modelMs: totalMs, retrievalMs: 0 },
      auditRunId: null,
    };
  }
}

function confidenceReport(value: number, closed: boolean, source: 'first-token' | 'option-mass'): ConfidenceReport {
  const optionMass = closed ? Math.min(1, value + 0.05) : null;
  const used = source === 'option-mass' && optionMass !== null ? optionMass : value;
  return { firstToken: value, optionMass, sampled: 1, used, source };
}

function wrongAnswer(reference: string, choices: string[] | null, random: () => number): string {
  const others = (choices ?? []).filter((c) => c.toLowerCase() !== reference.toLowerCase());
  if (others.length > 0) return others[Math.floor(random() * others.length)]!;
  return ['unclear', 'normal study', 'left lower lobe', 'ct'].find((w) => w !== reference.toLowerCase()) ?? 'unclear';
}

function hashSeed(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32LE(0);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new CancelledError('scripted item'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new CancelledError('scripted item'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
