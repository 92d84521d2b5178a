import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeMessage, encodeMessage, type BridgeServerMessage } from '../../bridge-client/wireCodec';
import { composeApp, type App } from '../compose';
import { startLoopbackBridge, type LoopbackBridge } from './loopbackBridge';

function open(url: string, origin?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin ? { origin } : {});
    ws.binaryType = 'arraybuffer';
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

function nextMessage(ws: WebSocket, predicate: (m: BridgeServerMessage) => boolean): Promise<BridgeServerMessage> {
  return new Promise((resolve) => {
    const onMessage = (data: ArrayBuffer): void => {
      const message = decodeMessage(new Uint8Array(data)) as BridgeServerMessage;
      if (predicate(message)) {
        ws.off('message', onMessage);
        resolve(message);
      }
    };
    ws.on('message', onMessage);
  });
}

describe('loopback bridge', () => {
  let dir: string;
  let app: App;
  let bridge: LoopbackBridge;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medrwr-bridge-'));
    mkdirSync(join(dir, 'renderer'));
    writeFileSync(join(dir, 'renderer/index.html'), '<html><head></head><body>renderer</body></html>');
    writeFileSync(join(dir, 'client.js'), 'window.clientLoaded = true;');
    app = await composeApp({
      dataDir: join(dir, 'data'),
      resourcesDir: join(dir, 'resources'),
      version: 'test',
      dialogs: { open: async () => [] },
    });
    bridge = await startLoopbackBridge({
      handlers: app.handlers,
      bus: app.bus,
      rendererDir: join(dir, 'renderer'),
      clientScript: join(dir, 'client.js'),
    });
  });

  afterAll(async () => {
    await bridge.close();
    await app.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 with a random port and a long random token', () => {
    expect(bridge.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(bridge.port).toBeGreaterThan(0);
    expect(bridge.token.length).toBeGreaterThanOrEqual(32);
    expect(bridge.pageUrl).toContain(`#token=`);
  });

  it('refuses a WebSocket without the token, with a wrong token, and from a foreign origin', async () => {
    const base = `ws://127.0.0.1:${bridge.port}/__bridge/ws`;
    await expect(open(base)).rejects.toThrow(/403/);
    await expect(open(`${base}?token=${'x'.repeat(bridge.token.length)}`)).rejects.toThrow(/403/);
    await expect(open(`${base}?token=${bridge.token}`, 'http://evil.example')).rejects.toThrow(/403/);
  });

  it('is not reachable on a non-loopback address of this machine', async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (!external) {
      console.warn('no non-loopback IPv4 interface on this machine; only the bind address is checked');
      return;
    }
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: external, port: bridge.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(outcome).toBe('ECONNREFUSED');
  });

  it('serves invokes with the token: results, typed errors and unknown channels', async () => {
    const ws = await open(`ws://127.0.0.1:${bridge.port}/__bridge/ws?token=${bridge.token}`, bridge.url);
    try {
      const reply1 = nextMessage(ws, (m) => m.t === 'reply' && m.id === 1);
      ws.send(encodeMessage({ t: 'invoke', id: 1, channel: 'settings.get', args: undefined }));
      const ok = await reply1;
      expect(ok.t === 'reply' && ok.reply.ok && (ok.reply.result as { retrieval: { k: number } }).retrieval.k).toBe(3);

      const reply2 = nextMessage(ws, (m) => m.t === 'reply' && m.id === 2);
      ws.send(encodeMessage({ t: 'invoke', id: 2, channel: 'settings.update', args: { engine: { threads: -1 } } }));
      const bad = await reply2;
      expect(bad.t === 'reply' && !bad.reply.ok && bad.reply.error.code).toBe('INVALID_INPUT');

      const reply3 = nextMessage(ws, (m) => m.t === 'reply' && m.id === 3);
      ws.send(encodeMessage({ t: 'invoke', id: 3, channel: 'constructor', args: null }));
      const unknown = await reply3;
      expect(unknown.t === 'reply' && !unknown.reply.ok && unknown.reply.error.code).toBe('UNKNOWN_CHANNEL');
    } finally {
      ws.close();
    }
  });

  it('streams a run as events tagged with its id, and cancels another by id', async () => {
    const ws = await open(`ws://127.0.0.1:${bridge.port}/__bridge/ws?token=${bridge.token}`, bridge.url);
    try {
      const events: unknown[] = [];
      ws.on('message', (data: ArrayBuffer) => {
        const m = decodeMessage(new Uint8Array(data)) as BridgeServerMessage;
        if (m.t === 'event') events.push(m.payload);
      });
      const finished = (runId: string) =>
        nextMessage(
          ws,
          (m) => m.t === 'event' && m.event === 'runs.finished' && (m.payload as { runId: string }).runId === runId,
        );

      const completedId = app.runs.start('test', async ({ runId }) => {
        for (let i = 0; i < 3; i++) app.bus.emit('studies.changed', { studyInstanceUids: [`${runId}:${i}`] });
      });
      const completed = await finished(completedId);
      expect((completed as { payload: { outcome: { status: string } } }).payload.outcome.status).toBe('completed');
      expect(events.filter((e) => JSON.stringify(e).includes(completedId))).toHaveLength(4);

      const cancelledId = app.runs.start(
        'test',
        ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      );
      const cancelReply = nextMessage(ws, (m) => m.t === 'reply' && m.id === 10);
      const cancelledEvent = finished(cancelledId);
      ws.send(encodeMessage({ t: 'invoke', id: 10, channel: 'runs.cancel', args: { runId: cancelledId } }));
      expect((await cancelReply).t === 'reply').toBe(true);
      expect(((await cancelledEvent) as { payload: { outcome: { status: string } } }).payload.outcome.status).toBe(
        'cancelled',
      );
    } finally {
      ws.close();
    }
  });

  it('serves the renderer with the bridge client injected, and nothing outside the renderer folder', async () => {
    const html = await (await fetch(`${bridge.url}/`)).text();
    expect(html).toContain('<script src="/__bridge/client.js"></script>');
    expect(await (await fetch(`${bridge.url}/__bridge/client.js`)).text()).toContain('clientLoaded');
    expect((await fetch(`${bridge.url}/..%2Fclient.js`)).status).toBe(404);
    // A DNS-rebinding page would reach us under a foreign Host header (fetch cannot set Host, so use http).
    const status = await new Promise<number | undefined>((resolve, reject) => {
      request({ host: '127.0.0.1', port: bridge.port, path: '/', headers: { host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
        .once('error', reject)
        .end();
    });
    expect(status).toBe(403);
  });
});
