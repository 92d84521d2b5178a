import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeMessage, encodeMessage, type BridgeClientMessage } from '../../bridge-client/wireCodec';
import { dispatchInvoke } from './dispatchInvoke';
import type { EventBus } from './EventBus';
import type { InvokeHandlers } from './handlers';

export interface LoopbackBridgeOptions {
  handlers: InvokeHandlers;
  bus: EventBus;
  /** The built renderer (electron-vite's out/renderer). */
  rendererDir: string;
  /** The built bridge client script (out/bridge-client/bridge-client.js). */
  clientScript: string;
  /** 0 = a random free port. */
  port?: number;
  /** Defaults to a fresh random token per launch. */
  token?: string;
}

export interface LoopbackBridge {
  url: string;
  /** The page to open: the token rides in the fragment, which browsers never send to a server. */
  pageUrl: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/**
 * Serves the same contract as Electron IPC over a WebSocket bound to 127.0.0.1 only, on a random port, guarded by a
 * per-launch token and an Origin check; plus the built renderer over HTTP, so it can be tested in plain Chromium.
 */
export async function startLoopbackBridge(options: LoopbackBridgeOptions): Promise<LoopbackBridge> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const expected = Buffer.from(token);
  const server: Server = createServer((req, res) => void serveStatic(req, res, options, origin()));
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  let port = 0;
  const origin = (): string => `http://127.0.0.1:${port}`;

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', origin());
    const given = Buffer.from(url.searchParams.get('token') ?? '');
    const tokenOk = given.length === expected.length && timingSafeEqual(given, expected);
    const originOk = req.headers.origin === undefined || req.headers.origin === origin();
    if (url.pathname !== '/__bridge/ws' || !tokenOk || !originOk || !isLoopback(req)) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => sockets.emit('connection', ws, req));
  });

  const unsubscribe = options.bus.subscribe((event, payload) => {
    const frame = encodeMessage({ t: 'event', event, payload });
    for (const client of sockets.clients) if (client.readyState === client.OPEN) client.send(frame);
  });

  sockets.on('connection', (ws: WebSocket) => {
    ws.on('message', (data: Buffer) => {
      let message: BridgeClientMessage;
      try {
        message = decodeMessage(data) as BridgeClientMessage;
      } catch {
        ws.close(1003, 'malformed frame');
        return;
      }
      if (message.t !== 'invoke') return;
      void dispatchInvoke(options.handlers, message.channel, message.args).then((reply) => {
        if (ws.readyState === ws.OPEN) ws.send(encodeMessage({ t: 'reply', id: message.id, reply }));
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: origin(),
    pageUrl: `${origin()}/#token=${encodeURIComponent(token)}`,
    port,
    token,
    async close() {
      unsubscribe();
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function isLoopback(req: IncomingMessage): boolean {
  const address = req.socket.remoteAddress ?? '';
  return address === '127.0.0.1' || address === '::ffff:127.0.0.1' || address === '::1';
}

async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  options: LoopbackBridgeOptions,
  origin: string,
): Promise<void> {
  const url = new URL(req.url ?? '/', origin);
  if (req.method !== 'GET' || !isLoopback(req) || req.headers.host !== origin.slice('http://'.length)) {
    res.writeHead(403).end();
    return;
  }
  try {
    if (url.pathname === '/__bridge/client.js') {
      res.writeHead(200, { 'content-type': contentTypes['.js'] }).end(await readFile(options.clientScript));
      return;
    }
    const relative = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const path = normalize(join(options.rendererDir, relative));
    if (!path.startsWith(normalize(options.rendererDir) + sep)) {
      res.writeHead(404).end();
      return;
    }
    let body: Buffer | string = await readFile(path);
    if (relative === 'index.html') {
      // A classic script runs before the renderer's (deferred) module script, so window.api exists when it starts.
      body = body.toString('utf8').replace('<head>', '<head>\n    <script src="/__bridge/client.js"></script>');
    }
    res.writeHead(200, { 'content-type': contentTypes[extname(path)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
}
