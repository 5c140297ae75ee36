import crypto from 'node:crypto';
import os from 'node:os';

/** Which Host and Origin headers browser mode accepts: the loopback names, or the explicitly bound host. */
export function allowedHosts(boundHost: string, port: number): Set<string> {
  const names = new Set<string>(['127.0.0.1', 'localhost', '[::1]']);
  const loopback = boundHost === '127.0.0.1' || boundHost === 'localhost' || boundHost === '::1';
  if (!loopback) {
    if (boundHost === '0.0.0.0' || boundHost === '::') {
      names.add(os.hostname());
      for (const addresses of Object.values(os.networkInterfaces())) {
        for (const a of addresses ?? []) names.add(a.family === 'IPv6' ? `[${a.address}]` : a.address);
      }
    } else names.add(boundHost.includes(':') ? `[${boundHost}]` : boundHost);
  }
  return new Set([...names].map((n) => `${n.toLowerCase()}:${port}`));
}

export function isAllowedHost(hostHeader: string | undefined, allowed: Set<string>): boolean {
  return Boolean(hostHeader) && allowed.has(hostHeader!.toLowerCase());
}

/** The Origin must be this server itself (http://<allowed host>). */
export function isAllowedOrigin(origin: string | undefined, allowed: Set<string>): boolean {
  if (!origin) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:') return false;
  return allowed.has(url.host.toLowerCase());
}

export function newToken(): string {
  return crypto.randomBytes(24).toString('base64url');
}

export function tokensMatch(given: string | null | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}
