import type { AuditStore } from '../../audit/AuditStore';
import { exportRunHtml } from '../../audit/exportHtml';
import { InvalidInputError } from '../../errors/AppError';
import { NotAvailableError } from '../../errors/NotAvailableError';
import type { ReasoningService } from '../../reasoning/ReasoningService';
import type { RunRegistry } from '../../runs/RunRegistry';
import type { NamespaceHandlers } from '../handlers';

function runIdOf(args: unknown): string {
  const runId = (args as { runId?: unknown } | null)?.runId;
  if (typeof runId !== 'string' || !runId) throw new InvalidInputError('runId', 'a run id string', JSON.stringify(runId));
  return runId;
}

/**
 * The audit trail: recorded runs, one run's full record, a self-contained HTML report of it, and its replay — the
 * recorded question, image, settings, passages and similar case run again on the loaded model as a new streaming run
 * (`reasoning.event`s under the new run id), recorded with `replayOf` and whether each attempt's transcript matched.
 */
export function createHistoryHandlers(deps: {
  audit: AuditStore;
  /** Needed for `history.replay` (NOT_AVAILABLE without them). */
  runs?: RunRegistry;
  reasoning?: ReasoningService;
}): NamespaceHandlers<'history'> {
  return {
    'history.list': (query) => deps.audit.list(query ?? {}),
    'history.get': (args) => deps.audit.get(runIdOf(args)),
    'history.exportHtml': (args) => {
      const record = deps.audit.get(runIdOf(args));
      const image = record.imageSha256 ? deps.audit.image(record.imageSha256) : null;
      const caseImage = record.cdir.caseImageSha256 ? deps.audit.image(record.cdir.caseImageSha256) : null;
      return exportRunHtml(record, image, caseImage);
    },
    'history.replay': (args) => {
      const original = runIdOf(args);
      const { runs, reasoning } = deps;
      if (!runs || !reasoning) throw new NotAvailableError('replay', 'the reasoning service is not configured');
      // Refused at once (unknown run, no reasoner, another model) rather than as a failed run.
      reasoning.checkReplay(original);
      const runId = runs.start('reasoning.replay', async (run) => {
        await reasoning.replay(original, run);
      });
      return { runId };
    },
  };
}
