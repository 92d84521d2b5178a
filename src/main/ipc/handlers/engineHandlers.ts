import { NotAvailableError } from '../../errors/NotAvailableError';
import type { NamespaceHandlers } from '../handlers';

/** Placeholder until the engine service is wired: every call fails with NOT_AVAILABLE. */
export function createEngineHandlers(): NamespaceHandlers<'engine'> {
  const unavailable = (): never => {
    throw new NotAvailableError('engine', 'the service is not built yet');
  };
  return {
    'engine.status': unavailable,
    'engine.inspect': unavailable,
    'engine.load': unavailable,
    'engine.unload': unavailable,
  };
}
