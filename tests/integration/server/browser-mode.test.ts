import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../../main/server/http-server';
import { callNames } from '../../../main/api/contract';
import type { AppContext } from '../../../main/app/context';
import { testApp } from '../../helpers/app';
import { tempDir } from '../../helpers/temp';

let app: AppContext;
let dispose: () => Promise<void>;
let server: RunningServer;
let staticDir: string;
let cleanupStatic: () => void;

beforeAll(async () => {
  ({ app, dispose } = testApp());
  ({ dir: staticDir, cleanup: cleanupStatic } = tempDir('usfm-static-'));
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>t</title>');
  fs.mkdirSync(path.join(staticDir, 'assets'));
  fs.writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  server = await startServer({ ctx: app, staticDir });
});
afterAll(async () => {
  await server.close();
  await dispose();
  cleanupStatic();
});

function origin(): string {
  return `http://127.0.0.1:${server.port}`;
}

function connect(options: { token?: string; origin?: string | null; host?: string } = {}): Promise<WebSocket> {
  const token = options.token ?? server.token;
  const headers: Record<string, string> = {};
  if (options.host) headers.Host = options.host;
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${encodeURIComponent(token)}`, {
    headers,
    ...(options.origin === null ? {} : { origin: options.origin ?? origin() }),
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function call(ws: WebSocket, id: number, name: unknown, input: unknown): Promise<{ id: number; ok: boolean; result?: unknown; error?: { code: string } }> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData): void => {
      const msg = JSON.parse(data.toString()) as { id: number; ok: boolean };
      if (msg.id === id) {
        ws.off('message', onMessage);
        resolve(msg);
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ id, call: name, input }));
  });
}

function httpGet(pathname: string, host?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: server.port, path: pathname, headers: host ? { Host: host } : {} }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

describe('browser mode', () => {
  it('binds to the loopback address and prints a URL carrying the token in its fragment', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/#token=${server.token}`);
    expect(server.token.length).toBeGreaterThanOrEqual(32);
  });

  it('serves the renderer with a strict CSP and refuses path traversal', async () => {
    const index = await httpGet('/');
    expect(index.status).toBe(200);
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['x-frame-options']).toBe('DENY');
    expect((await httpGet('/assets/app.js')).headers['content-type']).toContain('javascript');
    const traversal = await httpGet('/../../../../etc/passwd');
    expect(traversal.body).not.toContain('root:');
    const encoded = await httpGet('/%2e%2e/%2e%2e/%2e%2e/etc/passwd');
    expect(encoded.body).not.toContain('root:');
  });

  it('refuses HTTP requests with a foreign Host header (DNS rebinding)', async () => {
    expect((await httpGet('/', `evil.example:${server.port}`)).status).toBe(421);
  });

  it('serves the contract over the WebSocket with the right token, Origin and Host', async () => {
    const ws = await connect();
    expect(await call(ws, 1, 'app.ping', { echo: 'hi' })).toEqual({ id: 1, ok: true, result: { pong: true, echo: 'hi' } });
    ws.close();
  });

  it('accepts localhost as well as 127.0.0.1', async () => {
    const ws = await connect({ host: `localhost:${server.port}`, origin: `http://localhost:${server.port}` });
    ws.close();
  });

  it('refuses a wrong or missing token', async () => {
    await expect(connect({ token: 'x'.repeat(server.token.length) })).rejects.toThrow('HTTP 401');
    await expect(connect({ token: '' })).rejects.toThrow('HTTP 401');
  });

  it('refuses a foreign or missing Origin', async () => {
    await expect(connect({ origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(connect({ origin: `https://127.0.0.1:${server.port}` })).rejects.toThrow('HTTP 403');
    await expect(connect({ origin: null })).rejects.toThrow('HTTP 403');
  });

  it('refuses a foreign Host header', async () => {
    await expect(connect({ host: `attacker.example:${server.port}` })).rejects.toThrow('HTTP 421');
  });

  it('answers every contract call with a validation error for invalid input and keeps serving', async () => {
    const ws = await connect();
    let id = 100;
    for (const name of callNames) {
      const reply = await call(ws, ++id, name, 12345);
      expect(reply.ok, name).toBe(false);
      expect(reply.error?.code, name).toBe('VALIDATION');
    }
    ws.send('not json');
    ws.send(Buffer.from([1, 2, 3]));
    expect(await call(ws, ++id, 'no.such.call', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CALL' } });
    expect(await call(ws, ++id, 'app.ping', {})).toMatchObject({ ok: true });
    ws.close();
  });

  it('streams job events to connected clients', async () => {
    const ws = await connect();
    const events: string[] = [];
    const ended = new Promise<void>((resolve) => {
      ws.on('message', (data) => {
        const msg = JSON.parse(data.toString()) as { event?: string; payload?: { state?: string } };
        if (msg.event) events.push(msg.event);
        if (msg.event === 'job.state' && msg.payload?.state === 'succeeded') resolve();
      });
    });
    const started = await call(ws, 1, 'jobs.startSelfTest', { steps: 3, stepMs: 10 });
    expect(started.ok).toBe(true);
    await ended;
    expect(events).toContain('job.progress');
    ws.close();
  });
});

describe('binding another address', () => {
  it('needs an explicit host and still requires the token', async () => {
    const open = await startServer({ ctx: app, staticDir, host: '0.0.0.0' });
    try {
      expect(open.url).toContain(`#token=${open.token}`);
      const bad = new WebSocket(`ws://127.0.0.1:${open.port}/api?token=wrong`, { origin: `http://127.0.0.1:${open.port}` });
      const status = await new Promise<number>((resolve) => bad.once('unexpected-response', (_r, res) => resolve(res.statusCode ?? 0)));
      expect(status).toBe(401);
    } finally {
      await open.close();
    }
  });
});
