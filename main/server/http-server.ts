/**
 * Browser mode: serves the built renderer and the same contract as the desktop app over a WebSocket.
 * Bound to 127.0.0.1 unless --host says otherwise; every API connection needs the per-launch token,
 * and the Origin and Host headers must name this server (DNS-rebinding and cross-site protection).
 */
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AppContext } from '../app/context';
import { dispatch } from '../api/dispatcher';
import { allowedHosts, isAllowedHost, isAllowedOrigin, newToken, tokensMatch } from './origin-policy';

export interface ServerOptions {
  ctx: AppContext;
  staticDir: string;
  host?: string;
  port?: number;
  token?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  host: string;
  token: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
};

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? newToken();
  const staticRoot = path.resolve(options.staticDir);
  let allowed = new Set<string>();

  const server = http.createServer((req, res) => {
    if (!isAllowedHost(req.headers.host, allowed)) {
      res.writeHead(421, { 'Content-Type': 'text/plain' }).end('misdirected request: unexpected Host header');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    serveStatic(staticRoot, req.url ?? '/', res);
  });

  // connect-src 'self' covers ws: on the same host:port in current browsers.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refuse = (status: number, reason: string): void => {
      socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    if (url.pathname !== '/api') return refuse(404, 'Not Found');
    if (!isAllowedHost(req.headers.host, allowed)) return refuse(421, 'Misdirected Request');
    if (!isAllowedOrigin(req.headers.origin, allowed)) return refuse(403, 'Forbidden');
    if (!tokensMatch(url.searchParams.get('token'), token)) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => serveConnection(ws, options.ctx));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  allowed = allowedHosts(host, port);
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/#token=${token}`,
    port,
    host,
    token,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function serveStatic(root: string, rawUrl: string, res: http.ServerResponse): void {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(rawUrl, 'http://localhost').pathname);
  } catch {
    res.writeHead(400).end();
    return;
  }
  let file = path.resolve(root, `.${pathname}`);
  if (!file.startsWith(root + path.sep) && file !== root) {
    res.writeHead(403).end();
    return;
  }
  if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) {
    // The renderer is a single-page app: unknown paths get index.html.
    file = path.join(root, 'index.html');
    if (!fs.existsSync(file)) {
      res.writeHead(503, { 'Content-Type': 'text/plain' }).end('renderer not built: run `npm run build:renderer`');
      return;
    }
  }
  const type = MIME[path.extname(file)] ?? 'application/octet-stream';
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-cache' });
  fs.createReadStream(file).pipe(res);
}

interface ClientMessage {
  id: number;
  call: unknown;
  input: unknown;
}

function serveConnection(ws: WebSocket, ctx: AppContext): void {
  const unsubscribe = ctx.events.subscribe((event, payload) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, payload }));
  });
  ws.on('close', unsubscribe);
  ws.on('error', unsubscribe);
  ws.on('message', (data, isBinary) => {
    let message: ClientMessage;
    try {
      if (isBinary) throw new Error('binary');
      const parsed = JSON.parse(data.toString()) as Partial<ClientMessage>;
      if (typeof parsed !== 'object' || parsed === null || typeof parsed.id !== 'number') throw new Error('shape');
      message = { id: parsed.id, call: parsed.call, input: parsed.input };
    } catch {
      ws.send(JSON.stringify({ id: null, ok: false, error: { code: 'BAD_INPUT', message: 'messages must be JSON objects {id, call, input}' } }));
      return;
    }
    void dispatch(ctx, message.call, message.input).then((outcome) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: message.id, ...outcome }));
    });
  });
}
