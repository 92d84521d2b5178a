import { NotAvailableError } from '../../errors/NotAvailableError';
import type { NamespaceHandlers } from '../handlers';

/** Placeholder until the studies service is wired: every call fails with NOT_AVAILABLE. */
export function createStudiesHandlers(): NamespaceHandlers<'studies'> {
  const unavailable = (): never => {
    throw new NotAvailableError('studies', 'the service is not built yet');
  };
  return {
    'studies.list': unavailable,
    'studies.series': unavailable,
    'studies.instances': unavailable,
    'studies.frame': unavailable,
    'studies.thumbnail': unavailable,
    'studies.modelImage': unavailable,
    'studies.import': unavailable,
    'studies.remove': unavailable,
  };
}
