import { NotAvailableError } from '../../errors/NotAvailableError';
import type { NamespaceHandlers } from '../handlers';

/** Placeholder until the history service is wired: every call fails with NOT_AVAILABLE. */
export function createHistoryHandlers(): NamespaceHandlers<'history'> {
  const unavailable = (): never => {
    throw new NotAvailableError('history', 'the service is not built yet');
  };
  return {
    'history.list': unavailable,
    'history.get': unavailable,
    'history.exportHtml': unavailable,
  };
}
