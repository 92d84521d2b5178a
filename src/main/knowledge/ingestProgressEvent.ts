import type { IngestProgressEvent } from '../../shared/contract';
import type { IngestFileReport } from './KnowledgeService';

/** The progress event of one ingested (or skipped, or failed) file of run `runId`. */
export function ingestProgressEvent(
  runId: string,
  report: IngestFileReport,
  filesDone: number,
  filesTotal: number,
): IngestProgressEvent {
  return {
    runId,
    file: report.file,
    filesDone,
    filesTotal,
    passagesAdded: report.passagesAdded,
    status: report.status,
    reason: report.reason,
    error: report.error,
  };
}
