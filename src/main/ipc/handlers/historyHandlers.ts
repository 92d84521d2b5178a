import type { AuditStore } from '../../audit/AuditStore';
import { exportRunHtml } from '../../audit/exportHtml';
import { InvalidInputError } from '../../errors/AppError';
import type { NamespaceHandlers } from '../handlers';

function runIdOf(args: unknown): string {
  const runId = (args as { runId?: unknown } | null)?.runId;
  if (typeof runId !== 'string' || !runId) throw new InvalidInputError('runId', 'a run id string', JSON.stringify(runId));
  return runId;
}

/** The audit trail: recorded runs, one run's full record, and a self-contained HTML report of it. */
export function createHistoryHandlers(deps: { audit: AuditStore }): NamespaceHandlers<'history'> {
  return {
    'history.list': (query) => deps.audit.list(query ?? {}),
    'history.get': (args) => deps.audit.get(runIdOf(args)),
    'history.exportHtml': (args) => {
      const record = deps.audit.get(runIdOf(args));
      const image = record.imageSha256 ? deps.audit.image(record.imageSha256) : null;
      const caseImage = record.cdir.caseImageSha256 ? deps.audit.image(record.cdir.caseImageSha256) : null;
      return exportRunHtml(record, image, caseImage);
    },
  };
}
