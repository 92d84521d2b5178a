import type { Api, EventChannel, InvokeChannel, InvokeReply } from '../shared/contract';

/** What a transport must provide: one request/response call and one event subscription. */
export interface ApiTransport {
  invoke(channel: InvokeChannel, args: unknown): Promise<InvokeReply<unknown>>;
  subscribe(event: EventChannel, listener: (payload: unknown) => void): () => void;
}

/** An error from the main process, rebuilt with its stable code on the renderer side. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly channel: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * Builds `window.api` — `api.<namespace>.<name>(args)` per invoke channel and `api.<namespace>.on<Name>(listener)`
 * per event (returning its unsubscribe) — over any transport. Used by the Electron preload and the loopback bridge
 * client alike, so the renderer cannot tell them apart.
 */
export function createApi(
  transport: ApiTransport,
  invokeChannels: readonly InvokeChannel[],
  eventChannels: readonly EventChannel[],
): Api {
  const api: Record<string, Record<string, unknown>> = {};
  const namespace = (channel: string): [Record<string, unknown>, string] => {
    const dot = channel.indexOf('.');
    const ns = channel.slice(0, dot);
    api[ns] ??= {};
    return [api[ns], channel.slice(dot + 1)];
  };
  for (const channel of invokeChannels) {
    const [target, name] = namespace(channel);
    target[name] = async (args?: unknown) => {
      const reply = await transport.invoke(channel, args);
      if (!reply.ok) throw new ApiError(reply.error.code, reply.error.message, channel);
      return reply.result;
    };
  }
  for (const event of eventChannels) {
    const [target, name] = namespace(event);
    target[`on${name[0]!.toUpperCase()}${name.slice(1)}`] = (listener: (payload: unknown) => void) =>
      transport.subscribe(event, listener);
  }
  return api as unknown as Api;
}
