/**
 * The one IPC contract between the main process and the renderer, split by direction.
 * - Invoke: renderer → main, request → response (`InvokeContract`).
 * - Events: main → renderer, typed payloads (`EventContract`).
 * Channel names are "<namespace>.<name>"; the preload turns them into `api.<namespace>.<name>(args)` and
 * `api.<namespace>.on<Name>(listener) → unsubscribe`.
 */
import type { AppInfo, OpenDialogRequest } from './app';
import type { RunId, RunStarted } from './common';
import type { EngineStatus, ModelInspection, ModelRole } from './engine';
import type {
  EvalDetail,
  EvalExport,
  EvalItemResult,
  EvalProgressEvent,
  EvalRequest,
  EvalResultsQuery,
  EvalSummary,
} from './evaluation';
import type { ExportedReport, HistoryQuery, RunRecord, RunSummary } from './history';
import type {
  CaseQueryImage,
  CaseSearchHit,
  CasesIngestRequest,
  EmbedProgressEvent,
  IngestProgressEvent,
  IngestRequest,
  KnowledgeStats,
  Passage,
  SearchRequest,
  SearchResponse,
} from './knowledge';
import type { AskRequest, KnowledgeReadiness, ReasoningEvent } from './reasoning';
import type { Settings, SettingsPatch } from './settings';
import type {
  FramePixels,
  FrameRequest,
  ImportProgressEvent,
  ImportRequest,
  ImportSummary,
  InstanceSummary,
  ModelImage,
  ModelImageRequest,
  SeriesSummary,
  StudyQuery,
  StudyReport,
  StudySummary,
} from './studies';
import type { ErrorPayload, RunOutcome } from './common';

export type * from './app';
export type * from './common';
export type * from './engine';
export type * from './evaluation';
export type * from './history';
export type * from './knowledge';
export type * from './reasoning';
export type * from './settings';
export type * from './studies';

interface Invoke<Args, Result> {
  args: Args;
  result: Result;
}

export interface InvokeContract {
  'app.info': Invoke<void, AppInfo>;
  /** Native file dialog; resolves to [] when cancelled or when the transport has no dialog (loopback bridge). */
  'app.openDialog': Invoke<OpenDialogRequest, string[]>;

  'runs.cancel': Invoke<{ runId: RunId }, { cancelled: boolean }>;

  'settings.get': Invoke<void, Settings>;
  'settings.update': Invoke<SettingsPatch, Settings>;

  'engine.status': Invoke<void, EngineStatus>;
  'engine.inspect': Invoke<{ path: string }, ModelInspection>;
  /** Loads the models configured in settings for the given roles (all when omitted). */
  'engine.load': Invoke<{ roles?: ModelRole[] }, EngineStatus>;
  'engine.unload': Invoke<{ roles?: ModelRole[] }, EngineStatus>;

  'knowledge.search': Invoke<SearchRequest, SearchResponse>;
  'knowledge.passage': Invoke<{ passageId: number }, Passage>;
  'knowledge.stats': Invoke<void, KnowledgeStats>;
  'knowledge.ingest': Invoke<IngestRequest, RunStarted>;
  /** Embeds the passages that have no vector from the configured embedding model yet (progress: embedProgress). */
  'knowledge.embed': Invoke<void, RunStarted>;
  'knowledge.removeSource': Invoke<{ sourceId: number }, KnowledgeStats>;
  'knowledge.casesIngest': Invoke<CasesIngestRequest, RunStarted>;
  'knowledge.casesSearch': Invoke<{ image: CaseQueryImage; k?: number }, CaseSearchHit[]>;
  /** PNG bytes of a case image (thumbnail size). */
  'knowledge.caseImage': Invoke<{ imageId: number; maxSize?: number }, Uint8Array>;

  'studies.list': Invoke<StudyQuery, StudySummary[]>;
  'studies.series': Invoke<{ studyInstanceUid: string }, SeriesSummary[]>;
  'studies.instances': Invoke<{ seriesInstanceUid: string }, InstanceSummary[]>;
  'studies.frame': Invoke<FrameRequest, FramePixels>;
  /** PNG thumbnail of a series' middle image. */
  'studies.thumbnail': Invoke<{ seriesInstanceUid: string; maxSize?: number }, Uint8Array>;
  'studies.modelImage': Invoke<ModelImageRequest, ModelImage>;
  'studies.import': Invoke<ImportRequest, RunStarted>;
  'studies.remove': Invoke<{ studyInstanceUid: string }, { removed: boolean }>;
  /** The text of a structured report (SR) instance. */
  'studies.report': Invoke<{ sopInstanceUid: string }, StudyReport>;

  'reasoning.ask': Invoke<AskRequest, RunStarted>;
  /** Whether runs start at once or wait for the bundled knowledge base being built (first start). */
  'reasoning.readiness': Invoke<void, KnowledgeReadiness>;

  'history.list': Invoke<HistoryQuery, RunSummary[]>;
  'history.get': Invoke<{ runId: RunId }, RunRecord>;
  'history.exportHtml': Invoke<{ runId: RunId }, ExportedReport>;
  /**
   * Runs a recorded question again with its recorded image, settings, passages and similar case on the loaded model
   * (REPLAY_MODEL_MISMATCH when it is not the recorded one): a new run streaming `reasoning.event`s, recorded with
   * `replayOf` and `replayMatch` (whether each attempt's transcript is identical; greedy decoding reproduces a run).
   */
  'history.replay': Invoke<{ runId: RunId }, RunStarted>;

  /** Freezes the selected items in the store, then runs them; progress arrives as `eval.progress`. */
  'eval.start': Invoke<EvalRequest, RunStarted & { evalId: string }>;
  /** Runs the results an interrupted, cancelled or failed evaluation is missing (and retries failed ones). */
  'eval.resume': Invoke<{ evalId: string }, RunStarted & { evalId: string }>;
  'eval.list': Invoke<void, EvalSummary[]>;
  'eval.get': Invoke<{ evalId: string }, EvalDetail>;
  'eval.results': Invoke<EvalResultsQuery, EvalItemResult[]>;
  /** The self-contained HTML report (plots inline). */
  'eval.report': Invoke<{ evalId: string }, ExportedReport>;
  /** Per-item results as CSV or JSONL. */
  'eval.export': Invoke<{ evalId: string; format: 'csv' | 'jsonl' }, EvalExport>;
  'eval.remove': Invoke<{ evalId: string }, { removed: boolean }>;
}

export interface EventContract {
  /** Every run (any kind) ends with exactly one of these. */
  'runs.finished': { runId: RunId; kind: string; outcome: RunOutcome };
  'engine.status': EngineStatus;
  'knowledge.ingestProgress': IngestProgressEvent;
  'knowledge.embedProgress': EmbedProgressEvent;
  'studies.importProgress': ImportProgressEvent;
  'studies.importDone': { runId: RunId; summary: ImportSummary };
  'studies.changed': { studyInstanceUids: string[] };
  'reasoning.event': ReasoningEvent;
  'eval.progress': EvalProgressEvent;
}

export type InvokeChannel = keyof InvokeContract;
export type EventChannel = keyof EventContract;
export type InvokeArgs<C extends InvokeChannel> = InvokeContract[C]['args'];
export type InvokeResult<C extends InvokeChannel> = InvokeContract[C]['result'];
export type EventPayload<E extends EventChannel> = EventContract[E];

/** The envelope every invoke reply travels in, so that error codes survive the transport. */
export type InvokeReply<R> = { ok: true; result: R } | { ok: false; error: ErrorPayload };

type Namespace<C extends string> = C extends `${infer N}.${string}` ? N : never;
type Member<C extends string, N extends string> = C extends `${N}.${infer M}` ? M : never;

type InvokeFunction<C extends InvokeChannel> = InvokeArgs<C> extends void
  ? () => Promise<InvokeResult<C>>
  : (args: InvokeArgs<C>) => Promise<InvokeResult<C>>;

type Subscribe<E extends EventChannel> = (listener: (payload: EventPayload<E>) => void) => () => void;

/** The renderer's view of the main process: `window.api`. Identical over Electron IPC and the loopback bridge. */
export type Api = {
  [N in Namespace<InvokeChannel> | Namespace<EventChannel>]: {
    [M in Member<InvokeChannel, N>]: InvokeFunction<Extract<`${N}.${M}`, InvokeChannel>>;
  } & {
    [M in Member<EventChannel, N> as `on${Capitalize<M>}`]: Subscribe<Extract<`${N}.${M}`, EventChannel>>;
  };
};
