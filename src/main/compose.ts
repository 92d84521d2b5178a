import { join } from 'node:path';
import type { AppInfo, EventPayload } from '../shared/contract';
import { AuditStore } from './audit/AuditStore';
import { EngineService } from './engine/EngineService';
import { SqliteCrashLog, SqliteHashStore } from './engine/engineStore';
import type { EngineSpawner } from './engine/process/EngineSupervisor';
import { EvalService } from './eval/EvalService';
import { EvalStore } from './eval/EvalStore';
import { ReasoningItemRunner } from './eval/runner/ReasoningItemRunner';
import { EventBus } from './ipc/EventBus';
import type { InvokeHandlers } from './ipc/handlers';
import {
  createAppHandlers,
  createRunsHandlers,
  createSettingsHandlers,
  type DialogPort,
} from './ipc/handlers/appHandlers';
import { createEngineHandlers } from './ipc/handlers/engineHandlers';
import { createEvalHandlers } from './ipc/handlers/evalHandlers';
import { createHistoryHandlers } from './ipc/handlers/historyHandlers';
import { createKnowledgeHandlers } from './ipc/handlers/knowledgeHandlers';
import { installBundledKnowledge } from './knowledge/bundled/installBundledKnowledge';
import { ingestProgressEvent } from './knowledge/ingestProgressEvent';
import { WorkerSourcePreparer } from './knowledge/ingest/WorkerSourcePreparer';
import { KnowledgeService } from './knowledge/KnowledgeService';
import { createReasoningHandlers } from './ipc/handlers/reasoningHandlers';
import { createStudiesHandlers } from './ipc/handlers/studiesHandlers';
import { KnowledgeGate } from './reasoning/KnowledgeGate';
import { ReasoningService } from './reasoning/ReasoningService';
import { caseRetrieverFrom, knowledgeFingerprintFrom, passageRetrieverFrom } from './reasoning/serviceAdapters';
import { StudyImageSource } from './reasoning/StudyImageSource';
import { RunRegistry } from './runs/RunRegistry';
import { SettingsService } from './settings/SettingsService';
import { PixelPool } from './studies/pixels/PixelPool';
import { StudiesService } from './studies/StudiesService';
import { BackgroundWalCheckpointer } from './store/BackgroundWalCheckpointer';
import { openStore, type Db } from './store/openStore';

export interface AppConfig {
  /** Where the database, settings and logs live (Electron: userData; tests: a temp dir). */
  dataDir: string;
  /** Bundled defaults: knowledge base, sample studies. */
  resourcesDir: string;
  version: string;
  dialogs: DialogPort;
  /** Build the bundled MedQuAD knowledge base into a fresh store (a background run). Defaults to true. */
  installBundledKnowledge?: boolean;
  /** How the engine process is started (Electron: utilityProcess). Defaults to child_process.fork (plain Node). */
  engineSpawner?: EngineSpawner;
  /** Load the models chosen in settings at start, in the background. Defaults to false. */
  autoLoadModels?: boolean;
}

export interface App {
  config: AppConfig;
  db: Db;
  bus: EventBus;
  runs: RunRegistry;
  settings: SettingsService;
  engine: EngineService;
  knowledge: KnowledgeService;
  audit: AuditStore;
  reasoning: ReasoningService;
  evals: EvalService;
  studies: StudiesService;
  handlers: InvokeHandlers;
  /** Open once the bundled knowledge base is built (first start); runs and model evaluations wait for it. */
  knowledgeGate: KnowledgeGate;
  dispose(): Promise<void>;
}

/**
 * Builds every main-process service and the contract's handlers, with no Electron dependency: the Electron
 * composition root, the loopback bridge, the CLI and the tests all start the app through here.
 */
export async function composeApp(config: AppConfig): Promise<App> {
  const databasePath = join(config.dataDir, 'medrwr.sqlite');
  const db = openStore(databasePath);
  const bus = new EventBus();
  const runs = new RunRegistry(bus);
  const settings = new SettingsService(db);
  const crashLog = new SqliteCrashLog(db);
  const engine = new EngineService({
    settings,
    logDir: join(config.dataDir, 'logs'),
    hashes: new SqliteHashStore(db),
    emitStatus: (status) => bus.emit('engine.status', status),
    onCrash: (crash) => crashLog.record(crash),
    ...(config.engineSpawner ? { spawner: config.engineSpawner } : {}),
  });
  // No embedding model until the engine is wired: lexical-only retrieval, stated in every search response. Files are
  // parsed on a worker thread: IPC never waits on a PDF, and parsing overlaps with writing.
  const sourcePreparer = new WorkerSourcePreparer();
  // The WAL is copied into the database after each ingestion on a worker thread too: the run ends when it committed.
  const walCheckpointer = new BackgroundWalCheckpointer();
  const knowledge = new KnowledgeService(db, { embedder: null, preparer: sourcePreparer, walCheckpointer });
  // The embedding model and reranker follow what the engine has loaded (none: lexical-only retrieval, stated).
  let servedEmbedder = engine.embedder();
  let servedReranker = engine.reranker();
  engine.onChange(() => {
    if (engine.embedder() !== servedEmbedder) {
      knowledge.setEmbedder((servedEmbedder = engine.embedder()));
      // The first vector search over a large base then finds the prefilter in memory (a failure only defers it).
      knowledge.warmUpVectors().catch(() => undefined);
    }
    if (engine.reranker() !== servedReranker) knowledge.setReranker((servedReranker = engine.reranker()));
  });
  const audit = new AuditStore(db);
  const knowledgeGate = new KnowledgeGate();
  bus.subscribe((event, payload) => {
    if (event === 'knowledge.ingestProgress')
      knowledgeGate.progress(payload as EventPayload<'knowledge.ingestProgress'>);
  });
  const reasoning = new ReasoningService({
    // NOT_AVAILABLE until a reasoner is loaded (engine.load, or at start with autoLoadModels).
    reasoner: () => engine.reasoner(),
    // The knowledge base and the case corpus once they hold something (empty: queries get "None", CDIR says why).
    passages: () => (knowledge.stats().passages > 0 ? passageRetrieverFrom(knowledge) : null),
    cases: () => (knowledge.cases.counts().caseImages > 0 ? caseRetrieverFrom(knowledge.cases) : null),
    images: new StudyImageSource({
      renderInstance: (request) => studies.renderModelImage(request),
      renderFile: (path, request) => studies.renderFileImage(path, request),
    }),
    fingerprint: () => knowledgeFingerprintFrom(knowledge),
    settings,
    audit,
    emit: (event) => bus.emit('reasoning.event', event),
    knowledge: knowledgeGate,
  });
  // Pixel work (frame decoding, thumbnails, model images, import headers) runs in worker threads: IPC never waits on it.
  const pixels = new PixelPool();
  const studies = new StudiesService({ db, runs, bus }, { pixels });

  const evals = new EvalService({
    store: new EvalStore(db),
    runs,
    bus,
    settings,
    // Every item goes through the reasoning service (audited); NOT_AVAILABLE until a reasoner with vision is loaded.
    modelRunner: () =>
      new ReasoningItemRunner({
        reasoning,
        audit,
        fingerprint: () => knowledgeFingerprintFrom(knowledge),
        resources: () => ({
          knowledgeBase: knowledge.stats().passages > 0,
          caseCorpus: knowledge.cases.counts().caseImages > 0,
        }),
      }),
    // A model evaluation loads the configured models when none is loaded (the settings' paths, as engine.load).
    prepareModels: async () => {
      if (!engine.reasoner()) await engine.load();
    },
    knowledgeReady: () => knowledgeGate.wait(),
    appVersion: config.version,
  });

  const info: AppInfo = {
    version: config.version,
    dataDir: config.dataDir,
    databasePath,
    network: 'blocked',
    platform: `${process.platform}-${process.arch}`,
  };

  const handlers: InvokeHandlers = {
    ...createAppHandlers({ info, dialogs: config.dialogs }),
    ...createRunsHandlers(runs),
    ...createSettingsHandlers(settings),
    ...createEngineHandlers(engine),
    ...createKnowledgeHandlers({
      knowledge,
      runs,
      bus,
      retrievalDefaults: () => settings.get().retrieval,
      // Case search by a study image: the same PNG the model would see (the file's window).
      renderInstance: async (sopInstanceUid, frame) =>
        (await studies.renderModelImage({ sopInstanceUid, frame, window: null })).png,
    }),
    ...createStudiesHandlers(studies),
    ...createReasoningHandlers({ runs, service: reasoning, knowledge: knowledgeGate }),
    ...createHistoryHandlers({ audit, runs, reasoning }),
    ...createEvalHandlers(evals),
  };

  // First start of a data directory: the bundled MIT-licensed sample studies, so the study list is never empty.
  studies.importBundledSamplesOnFirstStart(join(config.resourcesDir, 'sample-studies'));

  if (config.installBundledKnowledge ?? true) {
    const bundledRun = runs.start('knowledge.bundled', async ({ runId, signal }) => {
      await installBundledKnowledge(knowledge, config.resourcesDir, {
        signal,
        onProgress: (report, filesDone, filesTotal) =>
          bus.emit('knowledge.ingestProgress', ingestProgressEvent(runId, report, filesDone, filesTotal)),
      });
    });
    // Reasoning runs and model evaluations wait for it: none is recorded against a half-built knowledge base.
    knowledgeGate.follow(bundledRun, runs.waitFor(bundledRun));
  }

  const { models } = settings.get();
  if (config.autoLoadModels && (models.reasoner || models.embedding || models.reranker)) {
    // Failures land in engine.status (and the engine log); the app starts either way.
    engine.load().catch(() => undefined);
  }

  return {
    config,
    db,
    bus,
    runs,
    settings,
    engine,
    knowledge,
    audit,
    reasoning,
    evals,
    studies,
    handlers,
    knowledgeGate,
    async dispose() {
      await evals.dispose();
      runs.cancelAll();
      await engine.dispose();
      await pixels.close();
      await sourcePreparer.close();
      await walCheckpointer.close();
      db.close();
    },
  };
}
