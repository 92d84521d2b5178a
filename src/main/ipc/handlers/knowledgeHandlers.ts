import { NotAvailableError } from '../../errors/NotAvailableError';
import type { NamespaceHandlers } from '../handlers';

/** Placeholder until the knowledge service is wired: every call fails with NOT_AVAILABLE. */
export function createKnowledgeHandlers(): NamespaceHandlers<'knowledge'> {
  const unavailable = (): never => {
    throw new NotAvailableError('knowledge', 'the service is not built yet');
  };
  return {
    'knowledge.search': unavailable,
    'knowledge.passage': unavailable,
    'knowledge.stats': unavailable,
    'knowledge.ingest': unavailable,
    'knowledge.removeSource': unavailable,
    'knowledge.casesIngest': unavailable,
    'knowledge.casesSearch': unavailable,
    'knowledge.caseImage': unavailable,
  };
}
