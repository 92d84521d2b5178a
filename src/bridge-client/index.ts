/**
 * Loopback bridge client: implements `window.api` over a WebSocket to the main-process services, so the built
 * renderer runs unchanged in a plain browser (tests in Debian Chromium). Loaded as a classic script before the
 * renderer's module, it reads the per-launch token from the URL fragment (never sent to any server by the browser).
 */
import type { EventChannel, InvokeChannel, InvokeReply, PlatformHelpers } from '../shared/contract';
import { createApi } from '../preload/createApi';
import { eventChannels, invokeChannels } from '../preload/channels';
import { decodeMessage, encodeMessage, type BridgeServerMessage } from './wireCodec';

const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
const socket = new WebSocket(`ws://${location.host}/__bridge/ws?token=${encodeURIComponent(token)}`);
socket.binaryType = 'arraybuffer';

const opened = new Promise<void>((resolve, reject) => {
  socket.addEventListener('open', () => resolve(), { once: true });
  socket.addEventListener('close', (e) => reject(new Error(`bridge closed before opening (code ${e.code})`)), {
    once: true,
  });
});
opened.catch(() => undefined);

let nextId = 1;
const pending = new Map<number, (reply: InvokeReply<unknown>) => void>();
const listeners = new Map<string, Set<(payload: unknown) => void>>();

socket.addEventListener('message', (e: MessageEvent<ArrayBuffer>) => {
  const message = decodeMessage(e.data) as BridgeServerMessage;
  if (message.t === 'reply') {
    pending.get(message.id)?.(message.reply);
    pending.delete(message.id);
  } else {
    for (const listener of listeners.get(message.event) ?? []) listener(message.payload);
  }
});
socket.addEventListener('close', () => {
  for (const resolve of pending.values()) {
    resolve({ ok: false, error: { code: 'BRIDGE_CLOSED', message: 'the loopback bridge connection closed' } });
  }
  pending.clear();
});

const api = createApi(
  {
    async invoke(channel: InvokeChannel, args: unknown): Promise<InvokeReply<unknown>> {
      await opened;
      const id = nextId++;
      const reply = new Promise<InvokeReply<unknown>>((resolve) => pending.set(id, resolve));
      socket.send(encodeMessage({ t: 'invoke', id, channel, args }));
      return reply;
    },
    subscribe(event: EventChannel, listener: (payload: unknown) => void): () => void {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
  },
  invokeChannels,
  eventChannels,
);

const platform: PlatformHelpers = { pathForFile: () => null, transport: 'loopback-bridge' };
Object.assign(window, { api, platform });
