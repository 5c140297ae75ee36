/**
 * The app:// protocol: serves the built renderer (dist/renderer) to the window with the same strict
 * Content-Security-Policy as browser mode, as a response header. Only files under the renderer folder
 * can be read; anything that resolves outside it is refused.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { CustomScheme, Protocol } from 'electron';
import { CONTENT_SECURITY_POLICY } from '../main/server/http-server';
import { APP_HOST, APP_SCHEME } from './constants';

/**
 * standard: relative URLs, a real origin and the same-origin policy; secure: treated like https
 * (no mixed-content downgrade); supportFetchAPI + corsEnabled: module scripts and fetch() work on it.
 * Deliberately not bypassCSP.
 */
export const APP_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true },
};

/** Must run before the app's `ready` event. */
export function registerAppScheme(protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export const APP_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-cache',
};

export type ResolvedPath = { file: string } | { status: 400 | 403 | 404 };

/**
 * Map an app:// URL to a file under `root`. `..` segments are normalised away by URL parsing;
 * percent-encoded ones (%2e%2e%2f) and backslashes are decoded here and caught by the containment check.
 */
export function resolveAppPath(root: string, rawUrl: string): ResolvedPath {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { status: 400 };
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return { status: 404 };
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return { status: 400 };
  }
  if (pathname.includes('\0')) return { status: 400 };
  const base = path.resolve(root);
  const file = path.resolve(base, `.${path.sep}${pathname.replace(/^[/\\]+/, '')}`);
  const relative = path.relative(base, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return { status: 403 };
  return { file: relative === '' ? path.join(base, 'index.html') : file };
}

function textResponse(status: number, text: string): Response {
  return new Response(text, {
    status,
    headers: { ...APP_RESPONSE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' },
  });
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

async function readRegularFile(file: string): Promise<Buffer | null> {
  try {
    return (await isFile(file)) ? await fs.readFile(file) : null;
  } catch {
    return null;
  }
}

/** The request handler for `protocol.handle('app', ...)`, serving files from `rendererDir`. */
export function createAppProtocolHandler(rendererDir: string): (request: Request) => Promise<Response> {
  const root = path.resolve(rendererDir);
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return textResponse(405, 'method not allowed');
    const resolved = resolveAppPath(root, request.url);
    if ('status' in resolved)
      return textResponse(
        resolved.status,
        resolved.status === 403 ? 'forbidden' : resolved.status === 404 ? 'not found' : 'bad request',
      );
    let file = resolved.file;
    let body = await readRegularFile(file);
    if (!body && path.extname(file) === '') {
      // The renderer is a single-page app: extension-less unknown paths get index.html.
      file = path.join(root, 'index.html');
      body = await readRegularFile(file);
    }
    if (!body) {
      return !(await isFile(path.join(root, 'index.html')))
        ? textResponse(503, 'renderer not built: run `npm run build:renderer`')
        : textResponse(404, 'not found');
    }
    const headers = {
      ...APP_RESPONSE_HEADERS,
      'Content-Type': MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    };
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers });
  };
}

/** Serve the renderer on app://usfm/ (after `ready`). */
export function handleAppProtocol(protocol: Pick<Protocol, 'handle'>, rendererDir: string): void {
  protocol.handle(APP_SCHEME, createAppProtocolHandler(rendererDir));
}
