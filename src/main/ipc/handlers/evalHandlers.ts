import { NotAvailableError } from '../../errors/NotAvailableError';
import type { NamespaceHandlers } from '../handlers';

/** Placeholder until the eval service is wired: every call fails with NOT_AVAILABLE. */
export function createEvalHandlers(): NamespaceHandlers<'eval'> {
  const unavailable = (): never => {
    throw new NotAvailableError('eval', 'the service is not built yet');
  };
  return {
    'eval.start': unavailable,
    'eval.resume': unavailable,
    'eval.list': unavailable,
    'eval.get': unavailable,
    'eval.results': unavailable,
    'eval.report': unavailable,
    'eval.export': unavailable,
    'eval.remove': unavailable,
  };
}
