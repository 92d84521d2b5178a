import type { EngineStatus, ModelInspection, ModelRole } from '../../../shared/contract';
import type { NamespaceHandlers } from '../handlers';

/** What the engine handlers need from the engine service. */
export interface EnginePort {
  status(): EngineStatus;
  inspect(path: string): Promise<ModelInspection>;
  load(roles?: ModelRole[]): Promise<EngineStatus>;
  unload(roles?: ModelRole[]): Promise<EngineStatus>;
}

export function createEngineHandlers(engine: EnginePort): NamespaceHandlers<'engine'> {
  return {
    'engine.status': () => engine.status(),
    'engine.inspect': ({ path }) => engine.inspect(path),
    'engine.load': (args) => engine.load(args?.roles),
    'engine.unload': (args) => engine.unload(args?.roles),
  };
}
