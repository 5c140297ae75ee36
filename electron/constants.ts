/**
 * Names shared by the main process and the preload. Kept free of imports: the sandboxed preload
 * bundles this file and nothing of the main process.
 */

/** The renderer is served from app://usfm/ (a privileged standard + secure scheme), never file://. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'usfm';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** One invoke channel per contract call: `usfm:call:<name>`. */
export const CALL_CHANNEL_PREFIX = 'usfm:call:';
/** Main → renderer events, sent as `{ event, payload }`. */
export const EVENT_CHANNEL = 'usfm:event';
/** The global the preload exposes: `window.usfm`. */
export const BRIDGE_KEY = 'usfm';

export function callChannel(name: string): string {
  return `${CALL_CHANNEL_PREFIX}${name}`;
}

/** True for URLs of the app's own origin (app://usfm/...). */
export function isAppUrl(raw: string | null | undefined): boolean {
  if (!raw) return false;
  try {
    const url = new URL(raw);
    // new URL().origin is "null" for non-special schemes in Node, so compare scheme and host.
    return (
      url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST && url.username === '' && url.password === ''
    );
  } catch {
    return false;
  }
}
