/**
 * Electron security checklist items that apply to every web contents and to the session:
 * no navigation away from the app, no new windows, no <webview>, no permissions, no network.
 * See electron/README.md for the full list and where each item lives.
 */
import type { IpcMainInvokeEvent, NavigationEvent, Session, WebContents } from 'electron';
import { isAppUrl } from './constants';

const hardened = new WeakSet<WebContents>();

function describeTarget(url: string | undefined): string {
  try {
    return url ? new URL(url).protocol : 'unknown';
  } catch {
    return 'invalid URL';
  }
}

/**
 * Navigation is allowed only within app://usfm/ (the single-page app changes its hash, which is not a
 * navigation); anything else, including redirects and subframe navigations, is cancelled.
 * `window.open` and target=_blank are denied, and attaching a <webview> is prevented.
 */
export function hardenWebContents(contents: WebContents): void {
  if (hardened.has(contents)) return;
  hardened.add(contents);
  const blockForeign = (kind: string) => (event: NavigationEvent, legacyUrl?: string) => {
    const url = event.url ?? legacyUrl;
    if (isAppUrl(url)) return;
    event.preventDefault();
    process.stderr.write(`[usfm] blocked ${kind} (target scheme: ${describeTarget(url)})\n`);
  };
  contents.on('will-navigate', blockForeign('navigation'));
  contents.on('will-frame-navigate', blockForeign('frame navigation'));
  contents.on('will-redirect', blockForeign('redirect'));
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** Every permission request (camera, notifications, geolocation, HID, ...) and check is refused. */
export function denyAllPermissions(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}

/** Patient data never leaves the machine: the renderer may not reach the network at all. */
export const REMOTE_URL_PATTERNS = ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*'];

export function blockRemoteRequests(session: Session): void {
  session.webRequest.onBeforeRequest({ urls: REMOTE_URL_PATTERNS }, (_details, callback) =>
    callback({ cancel: true }),
  );
}

/**
 * IPC calls are honoured only from the app's own page in a window's main frame: not from a subframe,
 * not from a page that somehow navigated elsewhere, not from a frame that is gone.
 */
export function isTrustedSender(event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>): boolean {
  const frame = event.senderFrame;
  if (!frame) return false;
  if (frame !== event.sender.mainFrame) return false;
  return isAppUrl(frame.url);
}
