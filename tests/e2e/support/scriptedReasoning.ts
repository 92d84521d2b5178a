import type { AskRequest, ReasoningEvent } from '../../../src/shared/contract';
import type { RunningApp } from './startApp';

/** One step of a scripted run: text streamed word by word in a segment, or one event as the service would send it. */
export type ScriptItem =
  | { stream: 'think' | 'query' | 'answer' | 'other'; text: string; attempt?: number }
  | { event: DistributiveOmit<ReasoningEvent, 'runId'> };

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/**
 * A stand-in event source for `reasoning.ask` while no reasoner can be loaded in this checkout: it registers a real
 * run (so `runs.cancel` and `runs.finished` behave as in the app) and emits contract events on the real bus at
 * `tokensPerSecond`. Only the model is scripted; hits and similar cases come from the real knowledge services.
 * Returns a function that puts the real handler back.
 */
export function scriptReasoning(
  running: RunningApp,
  script: (request: AskRequest) => Promise<ScriptItem[]>,
  options: { tokensPerSecond?: number } = {},
): () => void {
  const handlers = running.app.handlers as unknown as Record<string, (args: unknown) => unknown>;
  const original = handlers['reasoning.ask']!;
  const interval = 1000 / (options.tokensPerSecond ?? 200);
  handlers['reasoning.ask'] = async (args: unknown) => {
    const request = args as AskRequest;
    const items = await script(request);
    const runId = running.app.runs.start('reasoning.ask', async ({ runId, signal }) => {
      const emit = (event: DistributiveOmit<ReasoningEvent, 'runId'>): void =>
        running.app.bus.emit('reasoning.event', { ...event, runId } as ReasoningEvent);
      let next = performance.now();
      // Lets the reply carrying the run id reach the renderer first, as a real service's first token would.
      await new Promise((resolve) => setTimeout(resolve, 20));
      for (const item of items) {
        if ('event' in item) {
          emit(item.event);
          continue;
        }
        for (const word of item.text.match(/\s*\S+/g) ?? []) {
          if (signal.aborted) {
            emit({ type: 'cancelled' });
            return;
          }
          emit({ type: 'token', segment: item.stream, text: word, attempt: item.attempt ?? 1 });
          next += interval;
          const wait = next - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    });
    return { runId };
  };
  return () => {
    handlers['reasoning.ask'] = original;
  };
}
