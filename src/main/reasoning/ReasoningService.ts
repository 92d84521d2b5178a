import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  AskRequest,
  ImageRef,
  QueryRecord,
  ReasoningEvent,
  ReasoningMode,
  ReasoningResult,
  ReplayMatch,
  RunRecord,
  Settings,
} from '../../shared/contract';
import type { AuditStore } from '../audit/AuditStore';
import type { ModelImageInput, Reasoner } from '../engine/ports';
import { AppError, CancelledError, InvalidInputError, throwIfAborted, toErrorPayload } from '../errors/AppError';
import { NotAvailableError } from '../errors/NotAvailableError';
import type { RunContext } from '../runs/RunRegistry';
import type { DeltaBatcherOptions } from './DeltaBatcher';
import type {
  CaseRetriever,
  ImageMime,
  ImageSource,
  KnowledgeFingerprint,
  PassageRetriever,
  SimilarCase,
  StudyImage,
} from './ports';
import type { ProtocolGrammar } from './protocolGrammar';
import { ReasoningRun } from './ReasoningRun';

export interface ReasoningServiceDeps {
  /** The loaded reasoner, or null when none is loaded. */
  reasoner: () => Reasoner | null;
  passages: () => PassageRetriever | null;
  cases: () => CaseRetriever | null;
  images: ImageSource;
  settings: { get(): Settings };
  audit: AuditStore;
  emit: (event: ReasoningEvent) => void;
  /** Embedding model and knowledge-base hashes for the record. Defaults to unknown (null). */
  fingerprint?: () => KnowledgeFingerprint;
  grammar?: ProtocolGrammar;
  delta?: DeltaBatcherOptions;
  /**
   * Holds runs while the bundled knowledge base is being built (first start), so that none searches or records a
   * half-built one (see KnowledgeGate). Defaults to always ready.
   */
  knowledge?: { readonly building: boolean; wait(signal?: AbortSignal): Promise<void> };
}

export interface ReplayOutcome {
  runId: string;
  replayOf: string;
  result: ReasoningResult | null;
  match: ReplayMatch;
}

interface RunOverrides {
  settings?: Settings;
  image?: StudyImage | null;
  passages?: PassageRetriever | null;
  cases?: CaseRetriever | null;
  replayOf?: RunRecord;
}

const MODES: readonly ReasoningMode[] = ['direct', 'rwr', 'rwr+cdir'];
const MAX_QUESTION = 4000;
const MAX_CHOICES = 26;

/**
 * Runs Med-RwR reasoning for the app, the CLI and evaluation: validates the request, resolves the image, runs the
 * loop, writes the audit record (whatever the outcome) and emits the final event. Replays recorded runs.
 */
export class ReasoningService {
  constructor(private readonly deps: ReasoningServiceDeps) {}

  /** Checks a request from outside (IPC, CLI) and returns it normalised; throws INVALID_INPUT before any run starts. */
  validate(request: unknown): AskRequest {
    if (typeof request !== 'object' || request === null) throw new InvalidInputError('ask request', 'an object', String(request));
    const r = request as Record<string, unknown>;
    if (typeof r['question'] !== 'string' || r['question'].trim() === '') {
      throw new InvalidInputError('question', 'a non-empty string', JSON.stringify(r['question']) ?? 'nothing');
    }
    const question = r['question'].trim();
    if (question.length > MAX_QUESTION) throw new InvalidInputError('question', `at most ${MAX_QUESTION} characters`, `${question.length}`);
    let choices: string[] | undefined;
    if (r['choices'] !== undefined && r['choices'] !== null) {
      const c = r['choices'];
      if (!Array.isArray(c) || c.length < 2 || c.length > MAX_CHOICES || c.some((x) => typeof x !== 'string' || !x.trim())) {
        throw new InvalidInputError('choices', `2 to ${MAX_CHOICES} non-empty strings`, JSON.stringify(c));
      }
      choices = (c as string[]).map((x) => x.trim());
      if (new Set(choices.map((x) => x.toLowerCase())).size !== choices.length) {
        throw new InvalidInputError('choices', 'distinct options', JSON.stringify(choices));
      }
    }
    const mode = r['mode'];
    if (mode !== undefined && !MODES.includes(mode as ReasoningMode)) {
      throw new InvalidInputError('mode', MODES.join(' | '), JSON.stringify(mode));
    }
    const study = r['studyInstanceUid'];
    if (study !== undefined && typeof study !== 'string') throw new InvalidInputError('studyInstanceUid', 'a string', typeof study);
    return {
      question,
      image: validateImageRef(r['image']),
      ...(choices ? { choices } : {}),
      ...(typeof study === 'string' ? { studyInstanceUid: study } : {}),
      ...(mode ? { mode: mode as ReasoningMode } : {}),
    };
  }

  /** The reasoner to use for `request`; NOT_AVAILABLE when none is loaded or it cannot see images. */
  ready(request: Pick<AskRequest, 'image'>): Reasoner {
    const reasoner = this.deps.reasoner();
    if (!reasoner) throw new NotAvailableError('reasoning', 'no reasoner model is loaded (Settings → Models)');
    if (request.image && !reasoner.hasVision) {
      throw new NotAvailableError('questions about an image', 'the loaded reasoner has no vision projector (mmproj)');
    }
    return reasoner;
  }

  async ask(request: AskRequest, run: RunContext, overrides: RunOverrides = {}): Promise<ReasoningResult> {
    const startedAt = new Date();
    const settings = structuredClone(overrides.settings ?? this.deps.settings.get());
    const mode = request.mode ?? settings.reasoning.mode;
    this.deps.emit({ runId: run.runId, type: 'phase', phase: 'preparing', attempt: 1 });
    let reasoner: Reasoner | null = null;
    let image: StudyImage | null = null;
    let loop: ReasoningRun | null = null;
    let result: ReasoningResult | null = null;
    let failure: unknown = null;
    try {
      reasoner = this.ready(request);
      // A replay serves the recorded passages: it does not need the knowledge base.
      if (this.deps.knowledge?.building && !overrides.replayOf) {
        this.deps.emit({ runId: run.runId, type: 'phase', phase: 'waiting-for-knowledge', attempt: 1 });
        await this.deps.knowledge.wait(run.signal);
        this.deps.emit({ runId: run.runId, type: 'phase', phase: 'preparing', attempt: 1 });
      }
      image = overrides.image !== undefined ? overrides.image : request.image ? await this.deps.images.load(request.image, { signal: run.signal }) : null;
      throwIfAborted(run.signal, `reasoning run ${run.runId}`);
      loop = new ReasoningRun(
        { runId: run.runId, question: request.question, choices: request.choices ?? null, image, mode, settings },
        {
          reasoner,
          passages: overrides.passages !== undefined ? overrides.passages : this.deps.passages(),
          cases: overrides.cases !== undefined ? overrides.cases : this.deps.cases(),
          emit: this.deps.emit,
          ...(this.deps.grammar ? { grammar: this.deps.grammar } : {}),
          ...(this.deps.delta ? { delta: this.deps.delta } : {}),
        },
        run.signal,
      );
      result = await loop.execute();
    } catch (error) {
      failure = run.signal.aborted ? new CancelledError(`reasoning run ${run.runId}`) : error;
    }
    let status: RunRecord['status'] = failure === null ? 'completed' : failure instanceof CancelledError ? 'cancelled' : 'failed';
    const record = this.#record({ runId: run.runId, startedAt, request, settings, mode, reasoner, image, loop, status, failure, overrides });
    const images: { sha256: string; mime: string; bytes: Uint8Array }[] = [];
    if (image) images.push({ sha256: image.sha256, mime: image.mime, bytes: image.bytes });
    const similar = loop?.similarCase;
    if (similar && record.cdir.caseImageSha256) {
      images.push({ sha256: record.cdir.caseImageSha256, mime: similar.mime, bytes: similar.bytes });
    }
    try {
      this.deps.audit.save(record, images);
    } catch (auditError) {
      // An answer that is not on record is not given: a completed run fails; any other outcome stands.
      if (status === 'completed') {
        status = 'failed';
        failure = new AppError('AUDIT_WRITE_FAILED', `audit: expected the run record to be stored, found ${toErrorPayload(auditError).message}`, {
          cause: auditError,
        });
      }
    }
    if (status === 'completed') {
      this.deps.emit({ runId: run.runId, type: 'done', result: result! });
      return result!;
    }
    if (status === 'cancelled') this.deps.emit({ runId: run.runId, type: 'cancelled' });
    else this.deps.emit({ runId: run.runId, type: 'failed', error: toErrorPayload(failure) });
    throw failure;
  }

  /**
   * Runs a recorded question again with the recorded settings, image, retrieved passages and similar case, on the
   * same model (checked by hash), and compares the transcripts. Greedy decoding reproduces a run exactly.
   */
  async replay(runId: string, run: RunContext): Promise<ReplayOutcome> {
    const original = this.checkReplay(runId);
    const image = original.imageSha256 ? this.#recordedImage(original, original.imageSha256) : null;
    const request: AskRequest = {
      question: original.question,
      image: imageRefOf(original),
      mode: original.mode,
      ...(original.choices ? { choices: original.choices } : {}),
      ...(original.studyInstanceUid ? { studyInstanceUid: original.studyInstanceUid } : {}),
    };
    let result: ReasoningResult | null = null;
    try {
      result = await this.ask(request, run, {
        settings: original.settings,
        image: image && { ...image, studyInstanceUid: original.studyInstanceUid, sopInstanceUid: original.sopInstanceUid, frame: original.frame, window: original.window },
        passages: new RecordedPassages(original),
        cases: new RecordedCases(original, (sha) => this.#recordedCase(original, sha)),
        replayOf: original,
      });
    } catch (error) {
      if (!(error instanceof CancelledError) || !this.deps.audit.has(run.runId)) throw error;
    }
    const replayed = this.deps.audit.get(run.runId);
    return { runId: run.runId, replayOf: runId, result, match: replayed.replayMatch! };
  }

  /**
   * The record of `runId` when it can be replayed now: RUN_NOT_FOUND for an unknown run, NOT_AVAILABLE without a
   * reasoner (or without vision for a question about an image), REPLAY_MODEL_MISMATCH when the loaded reasoner is not
   * the one the run used (a replay on another model says nothing about reproducibility).
   */
  checkReplay(runId: string): RunRecord {
    const original = this.deps.audit.get(runId);
    const reasoner = this.ready({ image: original.imageSha256 ? imageRefOf(original) : null });
    if (original.models.reasoner && reasoner.model.sha256 !== original.models.reasoner) {
      const short = (sha: string): string => `${sha.slice(0, 12)}…`;
      throw new AppError(
        'REPLAY_MODEL_MISMATCH',
        `replay: expected the reasoner this run used (${original.modelNames.reasoner ?? 'unnamed'}, sha256 ${short(original.models.reasoner)}), ` +
          `found ${reasoner.model.name} (sha256 ${short(reasoner.model.sha256)}) loaded; load the recorded model to re-run it`,
        { details: { expected: original.models.reasoner, found: reasoner.model.sha256 } },
      );
    }
    return original;
  }

  #recordedImage(record: RunRecord, sha256: string): StudyImage {
    const stored = this.deps.audit.image(sha256);
    if (!stored) throw new AppError('REPLAY_IMAGE_MISSING', `replay: expected the stored image ${sha256}, found none`);
    const mime = stored.mime as ImageMime;
    return {
      bytes: stored.bytes,
      mime,
      sha256,
      modelInput: modelInputOf(stored.bytes, mime, sha256),
      studyInstanceUid: record.studyInstanceUid,
      sopInstanceUid: record.sopInstanceUid,
      frame: record.frame,
      window: record.window,
      sourcePath: null,
    };
  }

  #recordedCase(record: RunRecord, sha256: string): SimilarCase {
    const image = this.#recordedImage(record, sha256);
    return { hit: record.similarCase!, image: image.modelInput, bytes: image.bytes, mime: image.mime };
  }

  #record(args: {
    runId: string;
    startedAt: Date;
    request: AskRequest;
    settings: Settings;
    mode: ReasoningMode;
    reasoner: Reasoner | null;
    image: StudyImage | null;
    loop: ReasoningRun | null;
    status: RunRecord['status'];
    failure: unknown;
    overrides: RunOverrides;
  }): RunRecord {
    const { loop, image, reasoner, request, settings, status } = args;
    const result = loop && status === 'completed' ? loop.result() : null;
    const attempts = loop?.attempts ?? [];
    const kept = result?.keptAttempt ? attempts[result.keptAttempt - 1] : undefined;
    const fingerprint = this.deps.fingerprint?.() ?? { embedding: null, knowledgeBase: null };
    const record: RunRecord = {
      runId: args.runId,
      startedAt: args.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      status,
      question: request.question,
      choices: request.choices ?? null,
      answer: kept?.answer ?? null,
      confidence: kept?.confidence.used ?? null,
      mode: args.mode,
      cdirTriggered: loop?.cdir.decision === 're-reasoned',
      studyInstanceUid: request.studyInstanceUid ?? image?.studyInstanceUid ?? null,
      sopInstanceUid: image?.sopInstanceUid ?? null,
      frame: image?.frame ?? null,
      imageSha256: image?.sha256 ?? null,
      imageMime: image?.mime ?? null,
      window: image?.window ?? null,
      attempts,
      keptAttempt: result?.keptAttempt ?? null,
      similarCase: loop?.similarCase?.hit ?? null,
      cdir: loop?.cdir ?? {
        decision: 'disabled',
        confidence: null,
        threshold: settings.reasoning.cdirThreshold,
        reason: 'the run did not reach an answer',
        caseImageSha256: null,
        placement: null,
      },
      settings,
      models: {
        reasoner: reasoner?.model.sha256 ?? null,
        mmproj: reasoner?.projector?.sha256 ?? null,
        embedding: fingerprint.embedding,
        knowledgeBase: fingerprint.knowledgeBase,
      },
      modelNames: { reasoner: reasoner?.model.name ?? null, mmproj: reasoner?.projector?.name ?? null },
      seed: settings.reasoning.seed,
      timings: loop?.timings() ?? { totalMs: 0, modelMs: 0, retrievalMs: 0 },
      endReason: status === 'completed' ? result!.endReason : status,
      error: status === 'failed' ? toErrorPayload(args.failure) : null,
      replayOf: args.overrides.replayOf?.runId ?? null,
      replayMatch: args.overrides.replayOf ? compareTranscripts(args.overrides.replayOf, attempts) : null,
    };
    return record;
  }
}

function compareTranscripts(original: RunRecord, attempts: RunRecord['attempts']): ReplayMatch {
  const n = Math.max(original.attempts.length, attempts.length);
  const perAttempt = Array.from({ length: n }, (_, i) => {
    const a = original.attempts[i]?.transcript ?? '';
    const b = attempts[i]?.transcript ?? '';
    let d = 0;
    while (d < a.length && d < b.length && a[d] === b[d]) d++;
    const identical = a === b && original.attempts[i] !== undefined && attempts[i] !== undefined;
    return { attempt: i + 1, identical, firstDifference: identical ? null : d };
  });
  return { identical: perAttempt.every((a) => a.identical), attempts: perAttempt };
}

function imageRefOf(record: RunRecord): ImageRef | null {
  if (!record.imageSha256) return null;
  if (record.sopInstanceUid && record.frame !== null) {
    return { kind: 'instance', sopInstanceUid: record.sopInstanceUid, frame: record.frame, window: record.window };
  }
  return { kind: 'file', path: `audit-image:${record.imageSha256}` };
}

function modelInputOf(bytes: Uint8Array, mime: ImageMime, sha256: string): ModelImageInput {
  if (mime === 'image/png') return { png: bytes };
  const path = join(tmpdir(), `medrwr-audit-${sha256}.jpg`);
  writeFileSync(path, bytes);
  return { path };
}

function validateImageRef(value: unknown): ImageRef | null {
  if (value === undefined || value === null) return null;
  const v = value as Record<string, unknown>;
  if (v['kind'] === 'file' && typeof v['path'] === 'string' && v['path'].trim()) return { kind: 'file', path: v['path'] };
  if (v['kind'] === 'instance' && typeof v['sopInstanceUid'] === 'string' && Number.isInteger(v['frame']) && (v['frame'] as number) >= 0) {
    const w = v['window'] as Record<string, unknown> | null | undefined;
    if (w !== null && w !== undefined && !(Number.isFinite(w['center']) && Number.isFinite(w['width']) && (w['width'] as number) > 0)) {
      throw new InvalidInputError('image window', 'null or {center, width > 0}', JSON.stringify(w));
    }
    return {
      kind: 'instance',
      sopInstanceUid: v['sopInstanceUid'],
      frame: v['frame'] as number,
      window: w ? { center: w['center'] as number, width: w['width'] as number } : null,
    };
  }
  throw new InvalidInputError('image', 'null, {kind: "file", path} or {kind: "instance", sopInstanceUid, frame, window}', JSON.stringify(value));
}

/** Gives a replay the passages the original run retrieved, in the order its queries were served. */
class RecordedPassages implements PassageRetriever {
  readonly #queue: QueryRecord[];
  constructor(record: RunRecord) {
    this.#queue = record.attempts.flatMap((a) => a.queries).filter((q) => q.status === 'served' || q.status === 'no-hits');
  }
  async search() {
    const next = this.#queue.shift();
    if (!next) return { hits: [], lexicalOnly: false };
    return { hits: next.hits.map((hit, i) => ({ hit, text: next.passages[i] ?? '' })), lexicalOnly: next.lexicalOnly };
  }
}

/** Gives a replay the similar case the original run used (none when it found none). */
class RecordedCases implements CaseRetriever {
  constructor(
    private readonly record: RunRecord,
    private readonly load: (sha256: string) => SimilarCase,
  ) {}
  async searchByImage() {
    const sha = this.record.cdir.caseImageSha256;
    return sha && this.record.similarCase ? [this.load(sha)] : [];
  }
}
