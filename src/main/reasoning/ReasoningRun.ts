import { createHash } from 'node:crypto';
import type {
  AttemptRecord,
  CdirRecord,
  ModelCallRecord,
  QueryRecord,
  QueryStatus,
  ReasoningEvent,
  ReasoningMode,
  ReasoningPhase,
  ReasoningResult,
  Settings,
} from '../../shared/contract';
import type {
  ChatMessage,
  GenerateOptions,
  GeneratedToken,
  GenerationResult,
  ModelImageInput,
  NextTokenProbe,
  Reasoner,
  ReasonerSession,
} from '../engine/ports';
import { CancelledError } from '../errors/AppError';
import {
  confidenceReport,
  EMPTY_CONFIDENCE,
  firstTokenConfidence,
  matchAnswerToOption,
  optionCandidateStrings,
  optionMass,
  PROBE_TOP,
  type FirstTokenConfidence,
  type OptionMass,
} from './confidence';
import { DeltaBatcher, type DeltaBatcherOptions } from './DeltaBatcher';
import type { CaseRetriever, PassageRetriever, SimilarCase, StudyImage } from './ports';
import { buildMessages, closedOptions } from './prompts';
import { createProtocolGrammar, type ProtocolGrammar } from './protocolGrammar';
import { ANSWER_STOPS, REASONING_STOPS } from './protocolTags';
import { RepetitionDetector } from './RepetitionDetector';
import { StreamingTagParser, type ParserEvent } from './StreamingTagParser';
import { formatCdirTurn, formatRetrieveBlock, normaliseQuery } from './transcriptText';

export interface ReasoningInput {
  runId: string;
  question: string;
  choices: string[] | null;
  image: StudyImage | null;
  mode: ReasoningMode;
  /** The settings snapshot the run uses (recorded in the audit, reused by replay). */
  settings: Settings;
}

export interface ReasoningRunDeps {
  reasoner: Reasoner;
  /** Null: no knowledge base; queries are answered with `<retrieve> None </retrieve>`. */
  passages: PassageRetriever | null;
  /** Null: no image-case corpus; CDIR cannot re-retrieve. */
  cases: CaseRetriever | null;
  emit(event: ReasoningEvent): void;
  /**
   * Grammars used when `reasoning.grammarConstrained` is on. Defaults to the protocol grammar bounded by the settings'
   * `grammarThinkChars` and `grammarQueryChars` (unbounded thought for settings recorded before they existed).
   */
  grammar?: ProtocolGrammar;
  /** Defaults to performance.now. */
  now?: () => number;
  delta?: DeltaBatcherOptions;
}

/** Whitespace-only tokens at the start of an answer that the confidence probe steps over. */
const MAX_LEADING_WHITESPACE = 3;
/** Refused queries (empty, over the round limit, in direct mode) after which an attempt gives up. */
const MAX_REFUSED_QUERIES = 3;
/** Similar cases fetched, so the study's own image can be skipped when it is in the corpus. */
const CASES_K = 3;
/**
 * Under the grammar, tokens a reasoning step leaves for the answer: a thought still open when only these remain is
 * closed and the answer asked for ("budget forcing"), so a run that may not finish thinking still answers.
 */
const ANSWER_RESERVE = 64;
/** The query bound of the grammar before it was a setting (so that older records replay exactly). */
const LEGACY_QUERY_CHARS = 200;
/** What the loop writes to open a thought under the grammar (see `grammarLoopOpensThought`). */
const OPEN_THINK = '<think>';

type CallSpec =
  | { kind: 'start'; messages: ChatMessage[] }
  | { kind: 'continue'; appended: string; images?: ModelImageInput[] };

interface Step {
  result: GenerationResult;
  tokens: GeneratedToken[];
  events: ParserEvent[];
  loopStopped: boolean;
  /** Whether the session's transcript ends with this call's text, so the loop can append to it (a closing tag). */
  continuable: boolean;
  /** Transcript length before this call's generated text: the point CDIR rewinds to. */
  mark: number;
}

interface Attempt {
  record: AttemptRecord;
  parser: StreamingTagParser;
  budget: number;
  refused: number;
  /** Where the final think+answer segment began (after the last retrieval). */
  finalSegmentMark: number | null;
  closedAnswer: string | null;
}

type Decisive =
  | { kind: 'query'; content: string; index: number }
  | { kind: 'answer'; index: number };

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function fmt(p: number): string {
  return p.toFixed(3);
}

/**
 * One Med-RwR run: reasoning steps that stop at `</query>` (retrieve, append `<retrieve>`, continue) or at `<answer>`
 * (probe the model's confidence, generate the answer), then CDIR when the confidence is low. Everything the audit
 * needs is kept on the instance, also when the run is cancelled or fails half way.
 */
export class ReasoningRun {
  readonly attempts: AttemptRecord[] = [];
  cdir: CdirRecord;
  similarCase: SimilarCase | null = null;
  keptAttempt: number | null = null;
  modelMs = 0;
  retrievalMs = 0;
  startedAt = 0;
  finishedAt = 0;

  readonly #input: ReasoningInput;
  readonly #deps: ReasoningRunDeps;
  readonly #signal: AbortSignal;
  readonly #now: () => number;
  readonly #grammar: ProtocolGrammar;
  readonly #batcher: DeltaBatcher;
  #session: ReasonerSession | null = null;
  #attemptNo = 1;
  #roundsServed = 0;
  #queryCount = 0;

  constructor(input: ReasoningInput, deps: ReasoningRunDeps, signal: AbortSignal) {
    this.#input = input;
    this.#deps = deps;
    this.#signal = signal;
    this.#now = deps.now ?? (() => performance.now());
    const { grammarThinkChars, grammarQueryChars } = input.settings.reasoning;
    this.#grammar =
      deps.grammar ??
      createProtocolGrammar({
        thinkChars: [1, grammarThinkChars ?? null],
        queryChars: [1, grammarQueryChars ?? LEGACY_QUERY_CHARS],
      });
    this.#batcher = new DeltaBatcher(
      (segment, text) => this.#emit({ type: 'token', segment, text, attempt: this.#attemptNo }),
      deps.delta,
    );
    this.cdir = {
      decision: 'disabled',
      confidence: null,
      threshold: input.settings.reasoning.cdirThreshold,
      reason: 'the run did not reach an answer',
      caseImageSha256: null,
      placement: null,
    };
  }

  get roundsServed(): number {
    return this.#roundsServed;
  }

  async execute(): Promise<ReasoningResult> {
    this.startedAt = this.#now();
    try {
      this.#session = await this.#deps.reasoner.createSession();
      this.#checkCancelled();
      const first = this.#newAttempt(1);
      const messages = buildMessages({
        mode: this.#input.mode,
        question: this.#input.question,
        choices: this.#input.choices,
        image: this.#input.image?.modelInput ?? null,
      });
      await this.#runAttempt(first, { kind: 'start', messages });

      const decision = await this.#decideCdir(first);
      if (first.record.answer !== null) {
        this.#emit({
          type: 'answer',
          answer: first.record.answer,
          confidence: first.record.confidence,
          attempt: 1,
          kept: decision === null,
        });
      }
      if (decision) await this.#reReason(first, decision);
      this.#decideKept();
      this.#phase('finished');
      return this.result();
    } finally {
      this.finishedAt = this.#now();
      this.#batcher.flush();
      await this.#session?.dispose().catch(() => undefined);
    }
  }

  result(): ReasoningResult {
    const kept = this.keptAttempt === null ? null : this.attempts[this.keptAttempt - 1];
    const last = this.attempts.at(-1);
    return {
      runId: this.#input.runId,
      answer: kept?.answer ?? null,
      confidence: kept?.confidence ?? last?.confidence ?? EMPTY_CONFIDENCE,
      mode: this.#input.mode,
      rounds: this.#roundsServed,
      cdirTriggered: this.cdir.decision === 're-reasoned',
      keptAttempt: this.keptAttempt,
      attempts: this.attempts.length,
      endReason: (kept ?? last)?.endReason ?? 'no-answer:not-started',
      timings: this.timings(),
    };
  }

  timings(): { totalMs: number; modelMs: number; retrievalMs: number } {
    const end = this.finishedAt || this.#now();
    return { totalMs: end - this.startedAt, modelMs: this.modelMs, retrievalMs: this.retrievalMs };
  }

  // ── attempts ────────────────────────────────────────────────────────────────────────────────────────────────

  #newAttempt(n: number): Attempt {
    this.#attemptNo = n;
    const record: AttemptRecord = {
      attempt: n,
      transcript: '',
      outputStart: -1,
      queries: [],
      answer: null,
      confidence: EMPTY_CONFIDENCE,
      kept: false,
      endReason: 'no-answer:not-finished',
      firstToken: null,
      optionMasses: null,
      anomalies: [],
      modelCalls: [],
    };
    this.attempts.push(record);
    return {
      record,
      parser: new StreamingTagParser(),
      budget: this.#input.settings.reasoning.maxTokens,
      refused: 0,
      finalSegmentMark: null,
      closedAnswer: null,
    };
  }

  async #runAttempt(attempt: Attempt, first: CallSpec): Promise<void> {
    try {
      await this.#reason(attempt, first);
    } finally {
      this.#batcher.flush();
      attempt.record.transcript = this.#session?.transcript ?? '';
      if (attempt.record.outputStart < 0) attempt.record.outputStart = attempt.record.transcript.length;
    }
  }

  async #reason(attempt: Attempt, first: CallSpec): Promise<void> {
    const { settings, mode } = this.#input;
    const constrained = settings.reasoning.grammarConstrained;
    let call: CallSpec = first;
    let afterThink = false;
    let mustAnswer = false;
    for (;;) {
      if (attempt.budget <= 0) return this.#end(attempt, 'no-answer:max-tokens');
      const allowQuery = mode !== 'direct' && this.#roundsServed < settings.retrieval.maxRounds && !mustAnswer;
      const reserve = constrained && !afterThink && attempt.budget > 2 * ANSWER_RESERVE ? ANSWER_RESERVE : 0;
      this.#phase('thinking');
      // Under the grammar a step after the loop's text must open with <think>: the loop writes it, so its tokens are
      // the tokenizer's own (a grammar-forced split re-tokenizes differently and the next call re-reads it all).
      const thinkOpened =
        constrained && settings.reasoning.grammarLoopOpensThought === true && call.kind === 'continue' && !afterThink;
      if (thinkOpened && call.kind === 'continue') {
        call = { ...call, appended: `${call.appended}${OPEN_THINK}` };
        this.#consume(attempt, attempt.parser.push(OPEN_THINK));
      }
      const step = await this.#generate(attempt, call, {
        maxTokens: attempt.budget - reserve,
        stop: [...REASONING_STOPS],
        grammar: constrained
          ? this.#grammar.reasoning({
              allowQuery,
              requireQuery: false,
              roundsServed: this.#roundsServed,
              attempt: this.#attemptNo,
              afterThink,
              thinkOpened,
            })
          : undefined,
      });
      // A step that only finished a thought the loop closed belongs to the segment that thought started (and the
      // segment begins where the loop opened the thought).
      if (!afterThink) attempt.finalSegmentMark = step.mark - (thinkOpened ? OPEN_THINK.length : 0);
      afterThink = false;
      if (attempt.record.outputStart < 0) attempt.record.outputStart = step.mark;
      const decisive = findDecisive(step.events);
      if (decisive?.kind === 'query') {
        if (step.events.slice(decisive.index + 1).some((e) => e.type !== 'anomaly')) {
          this.#anomaly(attempt, 'generated-past-query', 'expected the model to stop at </query>, found more text after it');
        }
        const appended = await this.#serveQuery(attempt, decisive.content, false);
        if (appended === null) return;
        call = { kind: 'continue', appended };
        continue;
      }
      if (decisive?.kind === 'answer') return this.#answer(attempt, step, decisive.index);
      // Under the grammar a looping segment is closed and the protocol goes on (the grammar bounds what follows);
      // without it, or where the loop cannot write the closing tag, the attempt ends.
      const looping = step.loopStopped && constrained && step.continuable ? attempt.parser.openTag : null;
      const outOfBudget =
        reserve > 0 && step.result.stoppedBy === 'limit' && step.continuable && attempt.parser.openTag === 'think';
      if (looping === 'think' || outOfBudget) {
        this.#consume(attempt, attempt.parser.forceClose('think'));
        if (outOfBudget) {
          this.#anomaly(
            attempt,
            'think-closed-at-budget',
            `expected </think> within the token budget, found ${attempt.budget} tokens left; closed the thought for the answer`,
          );
        } else {
          this.#anomaly(attempt, 'think-closed-by-loop', 'expected </think>, found the model repeating itself; closed the thought');
        }
        call = { kind: 'continue', appended: ' </think>' };
        afterThink = true;
        mustAnswer ||= outOfBudget;
        continue;
      }
      if (step.loopStopped && looping !== 'query') return this.#end(attempt, 'no-answer:repetition');
      if (attempt.parser.openTag === 'query' && step.result.stoppedBy !== 'limit') {
        const closing = this.#consume(attempt, attempt.parser.forceClose('query'));
        const found = step.loopStopped ? 'the model repeating itself' : 'the end of the generation';
        this.#anomaly(attempt, 'query-closed-by-loop', `expected </query>, found ${found}; closed it`);
        const content = closing.find((e) => e.type === 'close' && e.tag === 'query');
        const appended = await this.#serveQuery(attempt, content?.type === 'close' ? content.content : '', true);
        if (appended === null) return;
        call = { kind: 'continue', appended };
        continue;
      }
      this.#consume(attempt, attempt.parser.finish());
      return this.#end(attempt, step.result.stoppedBy === 'limit' ? 'no-answer:max-tokens' : 'no-answer:eos');
    }
  }

  /** Answers a query with `<retrieve> … </retrieve>`; null when the attempt must end (too many refused queries). */
  async #serveQuery(attempt: Attempt, raw: string, closedByLoop: boolean): Promise<string | null> {
    const { settings, mode } = this.#input;
    const query = normaliseQuery(raw);
    const round = ++this.#queryCount;
    let status: QueryStatus =
      mode === 'direct'
        ? 'retrieval-disabled'
        : !query
          ? 'empty'
          : this.#roundsServed >= settings.retrieval.maxRounds
            ? 'round-limit'
            : this.#deps.passages === null
              ? 'unavailable'
              : 'served';
    this.#emit({ type: 'query', round, query, attempt: this.#attemptNo });
    const record: QueryRecord = { round, query, status, hits: [], passages: [], lexicalOnly: false, tookMs: 0 };
    attempt.record.queries.push(record);
    if (status === 'served') {
      this.#roundsServed++;
      this.#phase('retrieving');
      const started = this.#now();
      try {
        const found = await this.#deps.passages!.search(query, {
          k: settings.retrieval.k,
          mode: settings.retrieval.mode,
          signal: this.#signal,
        });
        this.#checkCancelled();
        const hits = found.hits.slice(0, settings.retrieval.k);
        record.hits = hits.map((h) => h.hit);
        record.passages = hits.map((h) => h.text);
        record.lexicalOnly = found.lexicalOnly;
        if (hits.length === 0) status = record.status = 'no-hits';
      } catch (error) {
        this.#checkCancelled();
        throw error;
      } finally {
        record.tookMs = this.#now() - started;
        this.retrievalMs += record.tookMs;
      }
    } else if (status !== 'unavailable') {
      attempt.refused++;
    }
    this.#emit({
      type: 'hits',
      round,
      query,
      hits: record.hits,
      lexicalOnly: record.lexicalOnly,
      attempt: this.#attemptNo,
      ...(status === 'served' ? {} : { reason: QUERY_REASONS[status] }),
    });
    if (attempt.refused >= MAX_REFUSED_QUERIES) {
      this.#end(attempt, 'no-answer:refused-queries');
      return null;
    }
    return `${closedByLoop ? ' </query>' : ''}\n${formatRetrieveBlock(record.passages)}`;
  }

  /** The answer segment: probe the model's own distribution at the first answer token, then generate the rest. */
  async #answer(attempt: Attempt, opening: Step, openIndex: number): Promise<void> {
    this.#phase('answering');
    const options = closedOptions(this.#input.question, this.#input.choices);
    const lettered = (this.#input.choices?.length ?? 0) > 0;
    const candidates = options ? optionCandidateStrings(options, lettered) : null;
    const grammarChoices = lettered ? this.#input.choices : null;
    const grammar = (): string | undefined =>
      this.#input.settings.reasoning.grammarConstrained
        ? this.#grammar.answer({ choices: grammarChoices, prefix: attempt.parser.openContent })
        : undefined;

    let probe: NextTokenProbe | null = null;
    let first: FirstTokenConfidence | null = null;
    let last: Step = opening;
    const wrotePast = opening.events.slice(openIndex + 1).some((e) => e.type === 'text' || e.type === 'close');
    if (wrotePast) {
      this.#anomaly(
        attempt,
        'answer-without-probe',
        'expected the generation to stop at <answer>, found answer text after it; no honest confidence for it',
      );
    } else {
      for (let i = 0; i <= MAX_LEADING_WHITESPACE && attempt.budget > 0; i++) {
        probe = await this.#probe(attempt, candidates?.flat() ?? []);
        last = await this.#generate(
          attempt,
          { kind: 'continue', appended: '' },
          { maxTokens: 1, stop: [...ANSWER_STOPS], grammar: grammar() },
        );
        const token = last.tokens[0];
        if (!token) break;
        if (/\S/.test(token.text)) {
          first = firstTokenConfidence(probe, token);
          break;
        }
        if (last.result.stoppedBy !== 'limit' || attempt.closedAnswer !== null) break;
        if (i === MAX_LEADING_WHITESPACE) {
          probe = null;
          this.#anomaly(attempt, 'answer-leading-whitespace', 'expected answer text, found only whitespace tokens');
        }
      }
    }
    const interrupted = last.result.stoppedBy === 'limit' || (last === opening && last.result.stoppedBy === 'stop');
    if (attempt.closedAnswer === null && attempt.parser.openTag === 'answer' && attempt.budget > 0 && interrupted) {
      last = await this.#generate(
        attempt,
        { kind: 'continue', appended: '' },
        { maxTokens: attempt.budget, stop: [...ANSWER_STOPS], grammar: grammar() },
      );
    }

    const closed = attempt.closedAnswer;
    const text = (closed ?? attempt.parser.openContent).trim();
    attempt.record.answer = text || null;
    const chosen = options && text ? matchAnswerToOption(text, options, lettered) : null;
    const mass: OptionMass | null = candidates && probe ? optionMass(probe, candidates, chosen) : null;
    attempt.record.firstToken = first;
    attempt.record.optionMasses = mass && options ? options.map((option, i) => ({ option, mass: mass.masses[i] ?? 0 })) : null;
    attempt.record.confidence = confidenceReport(first, mass, this.#input.settings.reasoning.confidenceSource);
    if (closed !== null) {
      this.#end(attempt, text ? 'answered' : 'no-answer:empty-answer');
    } else {
      this.#consume(attempt, attempt.parser.finish());
      const why = last.loopStopped ? 'repetition' : last.result.stoppedBy === 'limit' || attempt.budget <= 0 ? 'max-tokens' : 'eos';
      this.#end(attempt, `answer-unclosed:${why}`);
    }
  }

  // ── CDIR ────────────────────────────────────────────────────────────────────────────────────────────────────

  async #decideCdir(first: Attempt): Promise<SimilarCase | null> {
    const { mode, settings } = this.#input;
    const threshold = settings.reasoning.cdirThreshold;
    const confidence = first.record.confidence.used;
    const base = { confidence, threshold, caseImageSha256: null, placement: null } as const;
    if (mode !== 'rwr+cdir') {
      this.cdir = { ...base, decision: 'disabled', reason: `mode "${mode}" does not re-retrieve` };
      return null;
    }
    if (confidence !== null && confidence >= threshold) {
      this.cdir = { ...base, decision: 'not-needed', reason: `confidence ${fmt(confidence)} ≥ threshold ${threshold}` };
      this.#emitCdir(false, null);
      return null;
    }
    const why = confidence === null ? 'no answer confidence could be measured' : `confidence ${fmt(confidence)} < threshold ${threshold}`;
    const image = this.#input.image;
    if (!image) {
      this.cdir = { ...base, decision: 'no-image', reason: `${why}, but the question has no image to find similar cases with` };
      this.#emitCdir(false, null);
      return null;
    }
    if (!this.#deps.cases) {
      this.cdir = { ...base, decision: 'unavailable', reason: `${why}, but no image-case corpus is available` };
      this.#emitCdir(false, null);
      return null;
    }
    this.#phase('cdir');
    const started = this.#now();
    let found: SimilarCase[];
    try {
      found = await this.#deps.cases.searchByImage(image, { k: CASES_K, signal: this.#signal });
      this.#checkCancelled();
    } catch (error) {
      this.#checkCancelled();
      throw error;
    } finally {
      this.retrievalMs += this.#now() - started;
    }
    const best = found.find((c) => sha256(c.bytes) !== image.sha256) ?? null;
    if (!best) {
      this.cdir = { ...base, decision: 'no-case', reason: `${why}, but no similar case was found; the first answer stands` };
      this.#emitCdir(false, null);
      return null;
    }
    this.similarCase = best;
    this.cdir = {
      ...base,
      decision: 're-reasoned',
      reason: `${why}: re-reasoning with similar case "${best.hit.title}"`,
      caseImageSha256: sha256(best.bytes),
    };
    this.#emitCdir(true, best);
    return best;
  }

  async #reReason(first: Attempt, similar: SimilarCase): Promise<void> {
    const session = this.#session!;
    const canRewind = typeof session.rewind === 'function' && first.finalSegmentMark !== null;
    let prefix = '';
    if (canRewind) {
      await session.rewind!(first.finalSegmentMark!);
    } else {
      prefix = '\n';
    }
    this.cdir.placement = canRewind ? 'rewound' : 'appended';
    const second = this.#newAttempt(2);
    second.record.outputStart = session.transcript.length + prefix.length;
    this.#phase('thinking');
    await this.#runAttempt(second, {
      kind: 'continue',
      appended: prefix + formatCdirTurn(similar.hit.consultation, this.#deps.reasoner.mediaMarker),
      images: [similar.image],
    });
    if (second.record.answer !== null) {
      this.#emit({
        type: 'answer',
        answer: second.record.answer,
        confidence: second.record.confidence,
        attempt: 2,
        kept: true,
      });
    }
  }

  #decideKept(): void {
    const second = this.attempts[1];
    const first = this.attempts[0];
    this.keptAttempt = second?.answer != null ? 2 : first?.answer != null ? 1 : null;
    this.attempts.forEach((a) => (a.kept = a.attempt === this.keptAttempt));
  }

  #emitCdir(triggered: boolean, similar: SimilarCase | null): void {
    this.#emit({
      type: 'cdir',
      attempt: this.#attemptNo,
      confidence: this.cdir.confidence ?? 0,
      threshold: this.cdir.threshold,
      triggered,
      similarCase: similar ? { ...similar.hit, thumbnailRef: `case-image:${similar.hit.imageId}` } : null,
      reason: this.cdir.reason,
    });
  }

  // ── model calls ─────────────────────────────────────────────────────────────────────────────────────────────

  async #generate(
    attempt: Attempt,
    call: CallSpec,
    options: { maxTokens: number; stop: string[]; grammar: string | undefined },
  ): Promise<Step> {
    const session = this.#session!;
    const { reasoning } = this.#input.settings;
    const tokens: GeneratedToken[] = [];
    const events: ParserEvent[] = [];
    let streamed = '';
    let returned = false;
    const stopLoop = new AbortController();
    const repetition = new RepetitionDetector();
    const generateOptions: GenerateOptions = {
      stop: options.stop,
      maxTokens: options.maxTokens,
      temperature: reasoning.temperature,
      seed: reasoning.seed,
      ...(options.grammar ? { grammar: options.grammar } : {}),
      signal: AbortSignal.any([this.#signal, stopLoop.signal]),
      onToken: (token) => {
        // A token reported after the call returned is already in the result's text (read below): drop it.
        if (stopLoop.signal.aborted || returned) return;
        tokens.push(token);
        streamed += token.text;
        events.push(...this.#consume(attempt, attempt.parser.push(token.text)));
        if (repetition.push(token.text)) stopLoop.abort();
      },
    };
    const started = this.#now();
    let result: GenerationResult;
    try {
      result =
        call.kind === 'start'
          ? await session.start(call.messages, generateOptions)
          : await session.continue(call.appended, { ...generateOptions, ...(call.images ? { images: call.images } : {}) });
    } catch (error) {
      this.#checkCancelled();
      if (!stopLoop.signal.aborted) throw error;
      result = {
        text: streamed,
        stoppedBy: 'abort',
        stopString: null,
        promptTokens: 0,
        cachedTokens: 0,
        generatedTokens: tokens.length,
        timings: { promptMs: 0, generateMs: 0 },
      };
    } finally {
      returned = true;
      this.modelMs += this.#now() - started;
    }
    this.#checkCancelled();
    const loopStopped = stopLoop.signal.aborted;
    let kept = result.generatedTokens;
    if (loopStopped && result.text !== streamed && result.text.startsWith(streamed) && session.rewind && session.transcript.endsWith(result.text)) {
      // How many tokens the engine wrote after the loop was spotted depends on timing: cut them, so that the
      // transcript (and a greedy replay of it) ends exactly where the loop was seen.
      await session.rewind(session.transcript.length - result.text.length + streamed.length);
      result = { ...result, text: streamed };
      kept = tokens.length;
    }
    if (result.text !== streamed) {
      if (result.text.startsWith(streamed)) {
        const rest = result.text.slice(streamed.length);
        // An engine may not stream every token (an incomplete UTF-8 sequence, a late callback); the text is known.
        if (tokens.length === 0 && result.generatedTokens === 1) tokens.push({ text: rest, tokenId: -1, probability: null, topAlternatives: [] });
        events.push(...this.#consume(attempt, attempt.parser.push(rest)));
      } else if (!stopLoop.signal.aborted) {
        this.#anomaly(attempt, 'stream-mismatch', `expected the streamed tokens to spell the result, found ${JSON.stringify(streamed.slice(-40))} vs ${JSON.stringify(result.text.slice(-40))}`);
      }
    }
    attempt.budget -= Math.max(kept, tokens.length);
    this.#recordCall(attempt, {
      kind: call.kind,
      appendedChars: call.kind === 'continue' ? call.appended.length : 0,
      promptTokens: result.promptTokens,
      cachedTokens: result.cachedTokens,
      generatedTokens: result.generatedTokens,
      stoppedBy: result.stoppedBy,
      ms: this.#now() - started,
    });
    return {
      result,
      tokens,
      events,
      loopStopped,
      continuable: session.transcript.endsWith(result.text),
      mark: session.transcript.length - result.text.length,
    };
  }

  async #probe(attempt: Attempt, candidates: string[]): Promise<NextTokenProbe> {
    const started = this.#now();
    try {
      return await this.#session!.probeNextToken({ top: PROBE_TOP, candidates, signal: this.#signal });
    } catch (error) {
      this.#checkCancelled();
      throw error;
    } finally {
      const ms = this.#now() - started;
      this.modelMs += ms;
      this.#recordCall(attempt, { kind: 'probe', appendedChars: 0, promptTokens: 0, cachedTokens: 0, generatedTokens: 0, stoppedBy: null, ms });
    }
  }

  #recordCall(attempt: Attempt, call: ModelCallRecord): void {
    attempt.record.modelCalls.push(call);
  }

  /** Forwards parser output: text to the UI as small deltas, anomalies to the record, the answer's close to state. */
  #consume(attempt: Attempt, events: ParserEvent[]): ParserEvent[] {
    for (const e of events) {
      if (e.type === 'text') {
        if (e.segment !== 'other' || /\S/.test(e.text)) this.#batcher.add(e.segment, e.text);
      } else if (e.type === 'anomaly') {
        attempt.record.anomalies.push({ kind: e.kind, detail: e.detail });
      } else if (e.type === 'close' && e.tag === 'answer') {
        if (attempt.closedAnswer === null) attempt.closedAnswer = e.content;
      } else if (e.type === 'open' && e.tag === 'answer' && attempt.closedAnswer !== null) {
        this.#anomaly(attempt, 'second-answer', 'expected one <answer>, found another after it; the first is kept');
      }
    }
    return events;
  }

  #anomaly(attempt: Attempt, kind: string, detail: string): void {
    attempt.record.anomalies.push({ kind, detail });
  }

  #end(attempt: Attempt, reason: string): void {
    attempt.record.endReason = reason;
  }

  #phase(phase: ReasoningPhase): void {
    this.#batcher.flush();
    this.#emit({ type: 'phase', phase, attempt: this.#attemptNo });
  }

  #emit(event: DistributiveOmit<ReasoningEvent, 'runId'>): void {
    if (event.type !== 'token') this.#batcher.flush();
    this.#deps.emit({ ...event, runId: this.#input.runId } as ReasoningEvent);
  }

  #checkCancelled(): void {
    if (this.#signal.aborted) throw new CancelledError(`reasoning run ${this.#input.runId}`);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const QUERY_REASONS: Record<QueryStatus, string> = {
  served: 'served',
  'no-hits': 'no passage matched the query',
  empty: 'the query was empty',
  'round-limit': 'the retrieval round limit was reached',
  'retrieval-disabled': 'retrieval is off in direct mode',
  unavailable: 'no knowledge base is available',
};

/** The event that decides what the loop does after a reasoning step: a closed query or an opened answer. */
function findDecisive(events: ParserEvent[]): Decisive | null {
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.type === 'close' && e.tag === 'query') {
      // A query cut short by an opening <answer> was abandoned by the model: the answer decides.
      const next = events.slice(i + 1).find((n) => n.type !== 'anomaly' && n.type !== 'close');
      if (e.implicit && next?.type === 'open' && next.tag === 'answer') continue;
      return { kind: 'query', content: e.content, index: i };
    }
    if (e.type === 'open' && e.tag === 'answer') return { kind: 'answer', index: i };
  }
  return null;
}
