import type { CaseQueryImage, RetrievalMode } from '../../../shared/contract';
import { InvalidInputError } from '../../errors/AppError';
import { NotAvailableError } from '../../errors/NotAvailableError';
import type { KnowledgeService } from '../../knowledge/KnowledgeService';
import { ingestProgressEvent } from '../../knowledge/ingestProgressEvent';
import type { RunRegistry } from '../../runs/RunRegistry';
import type { EventBus } from '../EventBus';
import type { NamespaceHandlers } from '../handlers';

export interface KnowledgeHandlerDeps {
  knowledge: KnowledgeService;
  runs: RunRegistry;
  bus: EventBus;
  /** The configured retrieval defaults (settings.retrieval), read at each search. */
  retrievalDefaults: () => { k: number; mode: RetrievalMode };
  /**
   * Renders a DICOM frame as PNG bytes for case search by instance (the studies service). Defaults to null: only
   * image files can then be used as queries.
   */
  renderInstance?: ((sopInstanceUid: string, frame: number) => Promise<Uint8Array>) | null;
}

/** The knowledge namespace over the KnowledgeService: searches answer directly, ingestions run as cancellable runs. */
export function createKnowledgeHandlers(deps?: KnowledgeHandlerDeps): NamespaceHandlers<'knowledge'> {
  if (!deps) {
    const unavailable = (): never => {
      throw new NotAvailableError('knowledge', 'the service is not configured in this process');
    };
    return {
      'knowledge.search': unavailable,
      'knowledge.passage': unavailable,
      'knowledge.stats': unavailable,
      'knowledge.ingest': unavailable,
      'knowledge.embed': unavailable,
      'knowledge.removeSource': unavailable,
      'knowledge.casesIngest': unavailable,
      'knowledge.casesSearch': unavailable,
      'knowledge.caseImage': unavailable,
    };
  }
  const { knowledge, runs, bus } = deps;
  return {
    'knowledge.search': async ({ query, k, mode }) => {
      const defaults = deps.retrievalDefaults();
      return knowledge.search(query, { k: k ?? defaults.k, mode: mode ?? defaults.mode });
    },
    'knowledge.passage': ({ passageId }) => knowledge.passage(passageId),
    'knowledge.stats': () => knowledge.stats(),
    'knowledge.ingest': ({ paths, license, attribution }) => {
      if (!Array.isArray(paths) || paths.length === 0) {
        throw new InvalidInputError('knowledge.ingest paths', 'at least one file or folder', JSON.stringify(paths));
      }
      const runId = runs.start('knowledge.ingest', async ({ runId, signal }) => {
        await knowledge.ingest(paths, {
          signal,
          license: license ?? null,
          attribution: attribution ?? null,
          onProgress: (report, filesDone, filesTotal) =>
            bus.emit('knowledge.ingestProgress', ingestProgressEvent(runId, report, filesDone, filesTotal)),
        });
      });
      return { runId };
    },
    'knowledge.embed': () => {
      const model = knowledge.embeddingModel;
      if (!model) throw new NotAvailableError('embedding', 'no embedding model is configured');
      const runId = runs.start('knowledge.embed', async ({ runId, signal }) => {
        await knowledge.embedPending({
          signal,
          onProgress: (done, total) => bus.emit('knowledge.embedProgress', { runId, done, total, model: model.name }),
        });
      });
      return { runId };
    },
    'knowledge.removeSource': ({ sourceId }) => {
      knowledge.removeSource(sourceId);
      return knowledge.stats();
    },
    'knowledge.casesIngest': ({ folder }) => {
      if (typeof folder !== 'string' || !folder) {
        throw new InvalidInputError('knowledge.casesIngest folder', 'a folder path', JSON.stringify(folder));
      }
      const runId = runs.start('knowledge.casesIngest', async ({ runId, signal }) => {
        await knowledge.ingestCases(folder, {
          signal,
          onProgress: (report, done, total) =>
            bus.emit('knowledge.ingestProgress', {
              runId,
              file: report.caseId,
              filesDone: done,
              filesTotal: total,
              passagesAdded: report.images,
              status: report.status,
              reason: report.reason,
              error: report.error,
            }),
        });
      });
      return { runId };
    },
    'knowledge.casesSearch': async ({ image, k }) => knowledge.searchCases(await queryImage(image, deps), k ?? 3),
    'knowledge.caseImage': ({ imageId, maxSize }) => knowledge.caseImage(imageId, maxSize),
  };
}

async function queryImage(image: CaseQueryImage, deps: KnowledgeHandlerDeps): Promise<Uint8Array | string> {
  if (image?.kind === 'file' && typeof image.path === 'string') return image.path;
  if (image?.kind === 'instance') {
    if (!deps.renderInstance)
      throw new NotAvailableError('case search by DICOM instance', 'no study renderer is configured');
    return deps.renderInstance(image.sopInstanceUid, image.frame);
  }
  throw new InvalidInputError(
    'knowledge.casesSearch image',
    '{kind: "file", path} or {kind: "instance", …}',
    JSON.stringify(image),
  );
}
