import type { EventChannel, EventPayload } from '../../shared/contract';

export type EventListener = <E extends EventChannel>(event: E, payload: EventPayload<E>) => void;

/**
 * Main → renderer events. Services emit; transports (Electron IPC, the loopback bridge) subscribe and forward.
 * A failing listener never interrupts the emitter (a UI problem must not kill a generation).
 */
export class EventBus {
  readonly #listeners = new Set<EventListener>();

  emit<E extends EventChannel>(event: E, payload: EventPayload<E>): void {
    for (const listener of this.#listeners) {
      try {
        listener(event, payload);
      } catch (error) {
        console.error(`event listener failed on ${event}:`, error);
      }
    }
  }

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
