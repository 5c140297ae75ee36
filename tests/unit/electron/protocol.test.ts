import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_SCHEME_PRIVILEGES,
  createAppProtocolHandler,
  handleAppProtocol,
  registerAppScheme,
  resolveAppPath,
} from '../../../electron/protocol';
import { CONTENT_SECURITY_POLICY } from '../../../main/server/http-server';
import { tempDir } from '../../helpers/temp';
import { FakeProtocol } from './fake-electron';

let root: string;
let outside: string;
let cleanup: () => void;
let handler: (request: Request) => Promise<Response>;

beforeAll(() => {
  const temp = tempDir('usfm-protocol-');
  cleanup = temp.cleanup;
  root = path.join(temp.dir, 'renderer');
  outside = temp.dir;
  fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>USFM</title>');
  fs.writeFileSync(path.join(root, 'assets', 'app.js'), 'console.log("app")');
  fs.writeFileSync(path.join(root, 'assets', 'style.css'), 'body{}');
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'patient list');
  handler = createAppProtocolHandler(root);
});
afterAll(() => cleanup());

const get = (url: string, method = 'GET'): Promise<Response> => handler(new Request(url, { method }));

describe('app:// scheme registration', () => {
  it('is privileged as standard and secure, without bypassing CSP', () => {
    const protocol = new FakeProtocol();
    registerAppScheme(protocol);
    expect(protocol.privileged).toEqual([APP_SCHEME_PRIVILEGES]);
    expect(APP_SCHEME_PRIVILEGES.scheme).toBe('app');
    expect(APP_SCHEME_PRIVILEGES.privileges).toMatchObject({ standard: true, secure: true });
    expect(APP_SCHEME_PRIVILEGES.privileges?.bypassCSP).toBeUndefined();
  });

  it('handles the app scheme with the file handler', async () => {
    const protocol = new FakeProtocol();
    handleAppProtocol(protocol, root);
    const registered = protocol.handlers.get('app');
    expect(registered).toBeTypeOf('function');
    const response = await registered!(new Request('app://usfm/index.html'));
    expect(await response.text()).toContain('<title>USFM</title>');
  });
});

describe('app:// protocol handler', () => {
  it('serves renderer files with the strict CSP and the right content type', async () => {
    const html = await get('app://usfm/index.html');
    expect(html.status).toBe(200);
    expect(html.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('x-content-type-options')).toBe('nosniff');

    const js = await get('app://usfm/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await js.text()).toBe('console.log("app")');

    const css = await get('app://usfm/assets/style.css');
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('the CSP forbids inline and foreign scripts, framing and plugins', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
  });

  it('serves index.html for the root and for extension-less app routes', async () => {
    for (const url of ['app://usfm/', 'app://usfm', 'app://usfm/datasets/42']) {
      const response = await get(url);
      expect(response.status, url).toBe(200);
      expect(await response.text()).toContain('<title>USFM</title>');
    }
  });

  it('answers 404 for missing files with an extension and for other hosts', async () => {
    expect((await get('app://usfm/assets/missing.js')).status).toBe(404);
    expect((await get('app://evil/index.html')).status).toBe(404);
  });

  it('refuses path traversal, encoded or not', async () => {
    // ../ and %2e%2e/ segments are normalised by URL parsing and stay inside the root.
    for (const url of ['app://usfm/../../secret.txt', 'app://usfm/%2e%2e/secret.txt']) {
      const response = await get(url);
      expect(response.status, url).toBe(404);
      expect(await response.text()).not.toContain('patient');
    }
    // An encoded slash survives parsing; decoding it must not escape the root.
    for (const url of [
      'app://usfm/..%2fsecret.txt',
      'app://usfm/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      'app://usfm/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    ]) {
      const response = await get(url);
      expect(response.status, url).toBe(403);
      expect(await response.text()).not.toContain('patient');
    }
    expect(resolveAppPath(root, 'app://usfm/..%2f..%2fsecret.txt')).toEqual({ status: 403 });
    expect(resolveAppPath(root, 'app://usfm/a%00b')).toEqual({ status: 400 });
    expect(resolveAppPath(root, 'app://usfm/%E0%A4%A')).toEqual({ status: 400 });
    expect(resolveAppPath(root, 'app://usfm/assets/app.js')).toEqual({
      file: path.join(root, 'assets', 'app.js'),
    });
  });

  it('only answers GET and HEAD', async () => {
    expect((await get('app://usfm/index.html', 'POST')).status).toBe(405);
    const head = await get('app://usfm/index.html', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await head.text()).toBe('');
  });

  it('says the renderer is not built when index.html is missing', async () => {
    const empty = tempDir('usfm-protocol-empty-');
    try {
      const response = await createAppProtocolHandler(empty.dir)(new Request('app://usfm/index.html'));
      expect(response.status).toBe(503);
      expect(await response.text()).toContain('npm run build:renderer');
    } finally {
      empty.cleanup();
    }
  });
});
