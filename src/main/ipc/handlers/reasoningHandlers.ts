import { NotAvailableError } from '../../errors/NotAvailableError';
import type { KnowledgeGate } from '../../reasoning/KnowledgeGate';
import type { ReasoningService } from '../../reasoning/ReasoningService';
import type { RunRegistry } from '../../runs/RunRegistry';
import type { NamespaceHandlers } from '../handlers';

/**
 * `reasoning.ask` validates the request and checks a reasoner is loaded (errors come back to the caller at once),
 * then starts the run through the RunRegistry: progress arrives as `reasoning.event`, `runs.cancel` stops it.
 */
export function createReasoningHandlers(deps: {
  runs: RunRegistry;
  service: ReasoningService | null;
  /** The bundled knowledge base's build state. Defaults to ready. */
  knowledge?: Pick<KnowledgeGate, 'snapshot'>;
}): NamespaceHandlers<'reasoning'> {
  return {
    'reasoning.readiness': () =>
      deps.knowledge?.snapshot() ?? { state: 'ready', runId: null, filesDone: 0, filesTotal: null, error: null },
    'reasoning.ask': (request) => {
      const service = deps.service;
      if (!service) throw new NotAvailableError('reasoning', 'the reasoning service is not configured');
      const valid = service.validate(request);
      service.ready(valid);
      const runId = deps.runs.start('reasoning', async (run) => {
        await service.ask(valid, run);
      });
      return { runId };
    },
  };
}
