import { join } from 'node:path';
import type { AppInfo } from '../shared/contract';
import { AuditStore } from './audit/AuditStore';
import { EvalService } from './eval/EvalService';
import { EvalStore } from './eval/EvalStore';
import { ReasoningItemRunner } from './eval/runner/ReasoningItemRunner';
import { EventBus } from './ipc/EventBus';
import type { InvokeHandlers } from './ipc/handlers';
import { createAppHandlers, createRunsHandlers, createSettingsHandlers, type DialogPort } from './ipc/handlers/appHandlers';
import { createEngineHandlers } from './ipc/handlers/engineHandlers';
import { createEvalHandlers } from './ipc/handlers/evalHandlers';
import { createHistoryHandlers } from './ipc/handlers/historyHandlers';
import { createKnowledgeHandlers } from './ipc/handlers/knowledgeHandlers';
import { installBundledKnowledge } from './knowledge/bundled/installBundledKnowledge';
import { KnowledgeService } from './knowledge/KnowledgeService';
import { createReasoningHandlers } from './ipc/handlers/reasoningHandlers';
import { createStudiesHandlers } from './ipc/handlers/studiesHandlers';
import { ReasoningService } from './reasoning/ReasoningService';
import { StudyImageSource } from './reasoning/StudyImageSource';
import { RunRegistry } from './runs/RunRegistry';
import { SettingsService } from './settings/SettingsService';
import { StudiesService } from './studies/StudiesService';
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
}

export interface App {
  config: AppConfig;
  db: Db;
  bus: EventBus;
  runs: RunRegistry;
  settings: SettingsService;
  knowledge: KnowledgeService;
  audit: AuditStore;
  reasoning: ReasoningService;
  evals: EvalService;
  studies: StudiesService;
  handlers: InvokeHandlers;
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
  // No embedding model until the engine is wired: lexical-only retrieval, stated in every search response.
  const knowledge = new KnowledgeService(db, { embedder: null });
  const audit = new AuditStore(db);
  const reasoning = new ReasoningService({
    // Until the engine service is wired here no reasoner is loaded: reasoning.ask answers NOT_AVAILABLE.
    reasoner: () => null,
    passages: () => null,
    cases: () => null,
    images: new StudyImageSource(),
    settings,
    audit,
    emit: (event) => bus.emit('reasoning.event', event),
  });
  const studies = new StudiesService({ db, runs, bus });

  const evals = new EvalService({
    store: new EvalStore(db),
    runs,
    bus,
    settings,
    // Every item goes through the reasoning service (audited); NOT_AVAILABLE until a reasoner with vision is loaded.
    modelRunner: () => new ReasoningItemRunner({ reasoning, audit }),
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
    ...createEngineHandlers(),
    ...createKnowledgeHandlers({ knowledge, runs, bus, retrievalDefaults: () => settings.get().retrieval }),
    ...createStudiesHandlers(studies),
    ...createReasoningHandlers({ runs, service: reasoning }),
    ...createHistoryHandlers({ audit }),
    ...createEvalHandlers(evals),
  };

  // First start of a data directory: the bundled MIT-licensed sample studies, so the study list is never empty.
  studies.importBundledSamplesOnFirstStart(join(config.resourcesDir, 'sample-studies'));

  if (config.installBundledKnowledge ?? true) {
    runs.start('knowledge.bundled', async ({ runId, signal }) => {
      await installBundledKnowledge(knowledge, config.resourcesDir, {
        signal,
        onProgress: (r, filesDone, filesTotal) =>
          bus.emit('knowledge.ingestProgress', {
            runId,
            file: r.file,
            filesDone,
            filesTotal,
            passagesAdded: r.passagesAdded,
            status: r.status,
            reason: r.reason,
            error: r.error,
          }),
      });
    });
  }

  return {
    config,
    db,
    bus,
    runs,
    settings,
    knowledge,
    audit,
    reasoning,
    evals,
    studies,
    handlers,
    async dispose() {
      await evals.dispose();
      runs.cancelAll();
      db.close();
    },
  };
}
