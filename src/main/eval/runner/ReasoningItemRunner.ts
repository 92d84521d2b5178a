import { randomUUID } from 'node:crypto';
import type { EvalRunnerIdentity, Settings } from '../../../shared/contract';
import type { ModelIdentity, Reasoner } from '../../engine/ports';
import type { CaseRetriever, ImageSource, KnowledgeFingerprint, PassageRetriever } from '../../reasoning/ports';
import { ReasoningRun, type ReasoningInput } from '../../reasoning/ReasoningRun';
import type { EvalItemRunner, ItemRunInput, ItemRunOutcome } from './ItemRunner';

export interface ReasoningItemRunnerDeps {
  /** The loaded reasoner (language model + projector); called per item, so it may load on first use. */
  reasoner: () => Promise<Reasoner>;
  /** Null: no knowledge base; queries are answered with `<retrieve> None </retrieve>`. */
  passages: PassageRetriever | null;
  /** Null: no image-case corpus; CDIR cannot re-retrieve. */
  cases: CaseRetriever | null;
  /** Turns an item's image file (PNG, JPEG, DICOM) into what the model sees. */
  images: ImageSource;
  /** Embedding model and knowledge-base hashes for the report. Defaults to unknown. */
  fingerprint?: () => KnowledgeFingerprint | Promise<KnowledgeFingerprint>;
  /** Writes the run's audit record; returns its run id (stored with the item's result). Defaults to none. */
  audit?: (run: ReasoningRun, input: ReasoningInput) => string | null | Promise<string | null>;
}

/** Decisions of a CDIR step that mean the confidence was below the threshold (whether or not a case was found). */
const triggeredDecisions = new Set(['re-reasoned', 'no-case', 'no-image', 'unavailable']);

/**
 * Drives the Med-RwR loop (`ReasoningRun`) for one evaluation item: the item's first image, its question and options,
 * the mode under test and the evaluation's frozen settings and seed. Token events are not forwarded; the harness
 * keeps only what its metrics and report need.
 */
export class ReasoningItemRunner implements EvalItemRunner {
  constructor(private readonly deps: ReasoningItemRunnerDeps) {}

  async describe(settings: Settings): Promise<EvalRunnerIdentity> {
    const reasoner = await this.deps.reasoner();
    const fingerprint = (await this.deps.fingerprint?.()) ?? { embedding: null, knowledgeBase: null };
    const models: EvalRunnerIdentity['models'] = [identity('reasoner', reasoner.model)];
    if (reasoner.projector) models.push(identity('mmproj', reasoner.projector));
    if (fingerprint.embedding)
      models.push({ role: 'embedding', name: 'embedding model', sha256: fingerprint.embedding, sizeBytes: 0 });
    const retrieval = this.deps.passages
      ? `top-${settings.retrieval.k} ${settings.retrieval.mode} retrieval, up to ${settings.retrieval.maxRounds} rounds`
      : 'no knowledge base';
    return {
      kind: 'model',
      description:
        `Med-RwR loop on ${reasoner.model.name}${reasoner.projector ? ` + ${reasoner.projector.name}` : ' (no vision projector)'}; ` +
        `${retrieval}; CDIR below ${settings.reasoning.cdirThreshold} (${settings.reasoning.confidenceSource})` +
        `${this.deps.cases ? '' : ', no image-case corpus'}; temperature ${settings.reasoning.temperature}` +
        `${settings.reasoning.grammarConstrained ? ', grammar-constrained' : ''}; items with several images use the first`,
      models,
      knowledgeBase: fingerprint.knowledgeBase,
    };
  }

  async runItem({ item, mode, seed, settings, signal }: ItemRunInput): Promise<ItemRunOutcome> {
    const reasoner = await this.deps.reasoner();
    const first = item.images[0];
    const image = first ? await this.deps.images.load({ kind: 'file', path: first.path }, { signal }) : null;
    const input: ReasoningInput = {
      runId: randomUUID(),
      question: item.question,
      choices: item.choices,
      image,
      mode,
      settings: { ...settings, reasoning: { ...settings.reasoning, seed, mode } },
    };
    const run = new ReasoningRun(
      input,
      { reasoner, passages: this.deps.passages, cases: this.deps.cases, emit: () => undefined },
      signal,
    );
    const result = await run.execute();
    const auditRunId = (await this.deps.audit?.(run, input)) ?? null;
    const queries = run.attempts.flatMap((attempt) =>
      attempt.queries.map((q) => ({
        round: q.round,
        query: q.query,
        hitSources: q.hits.map((h) => h.provenance.sourceTitle),
        hitIds: q.hits.map((h) => h.passageId),
      })),
    );
    const similar = run.similarCase?.hit ?? null;
    return {
      answer: result.answer,
      confidence: result.confidence,
      attempts: run.attempts.map((a) => ({ answer: a.answer, confidence: a.confidence })),
      cdirTriggered: mode === 'rwr+cdir' && triggeredDecisions.has(run.cdir.decision),
      similarCase: similar ? { caseId: similar.caseId, title: similar.title, score: similar.score } : null,
      queries,
      rounds: result.rounds,
      endReason: result.endReason,
      timings: result.timings,
      auditRunId,
    };
  }
}

function identity(role: string, model: ModelIdentity): EvalRunnerIdentity['models'][number] {
  return { role, name: model.name, sha256: model.sha256, sizeBytes: model.sizeBytes };
}
