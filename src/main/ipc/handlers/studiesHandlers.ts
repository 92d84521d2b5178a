import { NotAvailableError } from '../../errors/NotAvailableError';
import type { StudiesService } from '../../studies/StudiesService';
import type { NamespaceHandlers } from '../handlers';

/** The studies namespace over the StudiesService (every call fails with NOT_AVAILABLE when none is wired). */
export function createStudiesHandlers(studies: StudiesService | null = null): NamespaceHandlers<'studies'> {
  if (!studies) {
    const unavailable = (): never => {
      throw new NotAvailableError('studies', 'the service is not configured');
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
      'studies.report': unavailable,
    };
  }
  return {
    'studies.list': (query) => studies.list(query ?? {}),
    'studies.series': (args) => studies.series(args),
    'studies.instances': (args) => studies.instances(args),
    'studies.frame': (args) => studies.frame(args),
    'studies.thumbnail': (args) => studies.thumbnail(args),
    'studies.modelImage': (args) => studies.renderModelImage(args),
    'studies.import': (args) => studies.startImport(args),
    'studies.remove': (args) => studies.remove(args),
    'studies.report': (args) => studies.report(args),
  };
}
