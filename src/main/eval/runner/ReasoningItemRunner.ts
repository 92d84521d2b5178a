import { randomUUID } from 'node:crypto';
import type { AskRequest, EvalRunnerIdentity, RunRecord, Settings } from '../../../shared/contract';
import type { ModelIdentity, Reasoner } from '../../engine/ports';
import type { RunContext } from '../../runs/RunRegistry';
import type { EvalItemRunner, ItemRunInput, ItemRunOutcome } from './ItemRunner';

/** What the runner needs of the reasoning service (src/main/reasoning/ReasoningService). */
export interface ReasoningPort {
  /** The loaded reasoner able to answer `request`; throws NOT_AVAILABLE when none is (or it cannot see images). */
  ready(request: Pick<AskRequest, 'image'>): Reasoner;
  /** One audited Med-RwR run with the given settings; rejects with CancelledError when `run.signal` aborts. */
  ask(request: AskRequest, run: RunContext, overrides: { settings: Settings }): Promise<unknown>;
}

/** What the runner reads back from the audit store after each run. */
export interface AuditPort {
  get(runId: string): RunRecord;
}

export interface ReasoningItemRunnerDeps {
  reasoning: ReasoningPort;
  audit: AuditPort;
  /** Embedding model and knowledge-base hashes, for the report. Defaults to unknown. */
  fingerprint?: () => { embedding: string | null; knowledgeBase: string | null };
  /** Whether a knowledge base and an image-case corpus are attached, for the report's description. */
  resources?: () => { knowledgeBase: boolean; caseCorpus: boolean };
}

/** CDIR decisions that mean the confidence was below the threshold, whether or not a case was then found. */
const triggeredDecisions = new Set<string>(['re-reasoned', 'no-case', 'no-image', 'unavailable']);

/**
 * Runs each evaluation item through the reasoning service, exactly as a question asked in the app: the same loop,
 * the same audit record (so every evaluated answer can be opened in History and replayed), with the evaluation's
 * frozen settings, mode and seed. The metrics are read back from the audit record.
 */
export class ReasoningItemRunner implements EvalItemRunner {
  constructor(private readonly deps: ReasoningItemRunnerDeps) {}

  async describe(settings: Settings): Promise<EvalRunnerIdentity> {
    // Evaluation items always have an image: ask for a reasoner that can see one.
    const reasoner = this.deps.reasoning.ready({ image: { kind: 'file', path: 'evaluation-image' } });
    const fingerprint = this.deps.fingerprint?.() ?? { embedding: null, knowledgeBase: null };
    const resources = this.deps.resources?.() ?? { knowledgeBase: true, caseCorpus: true };
    const models: EvalRunnerIdentity['models'] = [identity('reasoner', reasoner.model)];
    if (reasoner.projector) models.push(identity('mmproj', reasoner.projector));
    if (fingerprint.embedding)
      models.push({ role: 'embedding', name: 'embedding model', sha256: fingerprint.embedding, sizeBytes: 0 });
    const r = settings.reasoning;
    const parts = [
      `Med-RwR loop on ${reasoner.model.name}${reasoner.projector ? ` + ${reasoner.projector.name}` : ''}`,
      resources.knowledgeBase
        ? `top-${settings.retrieval.k} ${settings.retrieval.mode} retrieval, up to ${settings.retrieval.maxRounds} rounds`
        : 'no knowledge base (queries answered "None")',
      `CDIR below ${r.cdirThreshold} (${r.confidenceSource})${resources.caseCorpus ? '' : ', no image-case corpus'}`,
      `temperature ${r.temperature}, max ${r.maxTokens} tokens${r.grammarConstrained ? ', grammar-constrained' : ''}`,
      'each answer is an audit record; items with several images use the first',
    ];
    return { kind: 'model', description: parts.join('; '), models, knowledgeBase: fingerprint.knowledgeBase };
  }

  async runItem({ item, mode, seed, settings, signal }: ItemRunInput): Promise<ItemRunOutcome> {
    const runId = randomUUID();
    const first = item.images[0];
    const request: AskRequest = {
      question: item.question,
      image: first ? { kind: 'file', path: first.path } : null,
      mode,
      ...(item.choices ? { choices: item.choices } : {}),
    };
    await this.deps.reasoning.ask(
      request,
      { runId, signal },
      {
        settings: { ...settings, reasoning: { ...settings.reasoning, seed, mode } },
      },
    );
    const record = this.deps.audit.get(runId);
    const kept = record.keptAttempt === null ? undefined : record.attempts[record.keptAttempt - 1];
    const last = record.attempts.at(-1);
    return {
      answer: record.answer,
      confidence: (kept ?? last)?.confidence ?? {
        firstToken: null,
        optionMass: null,
        sampled: null,
        used: null,
        source: settings.reasoning.confidenceSource,
      },
      attempts: record.attempts.map((a) => ({ answer: a.answer, confidence: a.confidence })),
      cdirTriggered: mode === 'rwr+cdir' && triggeredDecisions.has(record.cdir.decision),
      similarCase: record.similarCase
        ? { caseId: record.similarCase.caseId, title: record.similarCase.title, score: record.similarCase.score }
        : null,
      queries: record.attempts.flatMap((a) =>
        a.queries.map((q) => ({
          round: q.round,
          query: q.query,
          hitSources: q.hits.map((h) => h.provenance.sourceTitle),
          hitIds: q.hits.map((h) => h.passageId),
        })),
      ),
      rounds: record.attempts.reduce(
        (n, a) => n + a.queries.filter((q) => q.status === 'served' || q.status === 'no-hits').length,
        0,
      ),
      endReason: record.endReason,
      timings: record.timings,
      auditRunId: runId,
    };
  }
}

function identity(role: string, model: ModelIdentity): EvalRunnerIdentity['models'][number] {
  return { role, name: model.name, sha256: model.sha256, sizeBytes: model.sizeBytes };
}
