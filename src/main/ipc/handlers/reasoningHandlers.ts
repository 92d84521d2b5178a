import { NotAvailableError } from '../../errors/NotAvailableError';
import type { NamespaceHandlers } from '../handlers';

/** Placeholder until the reasoning service is wired: every call fails with NOT_AVAILABLE. */
export function createReasoningHandlers(): NamespaceHandlers<'reasoning'> {
  const unavailable = (): never => {
    throw new NotAvailableError('reasoning', 'the service is not built yet');
  };
  return {
    'reasoning.ask': unavailable,
  };
}
