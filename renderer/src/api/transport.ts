/**
 * How the renderer reaches the main-side services: Electron's preload bridge (`window.usfm`) in the
 * desktop app, a token-protected WebSocket in browser mode. Both carry the same contract.
 */
import type { ApiErrorShape } from '../../../main/api/errors';

export type Outcome = { ok: true; result: unknown } | { ok: false; error: ApiErrorShape };
export type EventListener = (event: string, payload: unknown) => void;

export interface Transport {
  readonly kind: 'electron' | 'websocket';
  call(name: string, input: unknown): Promise<Outcome>;
  onEvent(listener: EventListener): () => void;
  /** Connection status for the UI (always 'open' in Electron). */
  onStatus(listener: (status: 'connecting' | 'open' | 'closed') => void): () => void;
}

interface PreloadBridge {
  call(name: string, input: unknown): Promise<Outcome>;
  onEvent(listener: (message: { event: string; payload: unknown }) => void): () => void;
}

declare global {
  interface Window {
    usfm?: PreloadBridge;
  }
}

export function electronTransport(bridge: PreloadBridge): Transport {
  return {
    kind: 'electron',
    call: (name, input) => bridge.call(name, input),
    onEvent: (listener) => bridge.onEvent((m) => listener(m.event, m.payload)),
    onStatus: (listener) => {
      listener('open');
      return () => undefined;
    },
  };
}

const TOKEN_KEY = 'usfm.token';

/** The per-launch token arrives in the URL fragment; keep it for reloads and remove it from the address bar. */
export function takeToken(): string | null {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]!));
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

export function websocketTransport(token: string): Transport {
  let socket: WebSocket | null = null;
  let nextId = 1;
  let retryMs = 250;
  const pending = new Map<number, (outcome: Outcome) => void>();
  const queue: string[] = [];
  const eventListeners = new Set<EventListener>();
  const statusListeners = new Set<(status: 'connecting' | 'open' | 'closed') => void>();
  let status: 'connecting' | 'open' | 'closed' = 'connecting';
  const setStatus = (s: typeof status): void => {
    status = s;
    statusListeners.forEach((l) => l(s));
  };

  const connect = (): void => {
    setStatus('connecting');
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api?token=${encodeURIComponent(token)}`;
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      retryMs = 250;
      setStatus('open');
      for (const m of queue.splice(0)) ws.send(m);
    };
    ws.onmessage = (msg) => {
      const data = JSON.parse(String(msg.data)) as { id?: number | null; event?: string; payload?: unknown } & Outcome;
      if (typeof data.event === 'string') eventListeners.forEach((l) => l(data.event!, data.payload));
      else if (typeof data.id === 'number') {
        pending.get(data.id)?.(data.ok ? { ok: true, result: data.result } : { ok: false, error: data.error });
        pending.delete(data.id);
      }
    };
    ws.onclose = () => {
      setStatus('closed');
      for (const [id, resolve] of pending) {
        resolve({ ok: false, error: { code: 'UNAVAILABLE', message: 'connection to the workbench lost' } });
        pending.delete(id);
      }
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  };
  connect();

  return {
    kind: 'websocket',
    call(name, input) {
      const id = nextId++;
      const text = JSON.stringify({ id, call: name, input });
      return new Promise<Outcome>((resolve) => {
        pending.set(id, resolve);
        if (socket?.readyState === WebSocket.OPEN) socket.send(text);
        else queue.push(text);
      });
    },
    onEvent(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    onStatus(listener) {
      statusListeners.add(listener);
      listener(status);
      return () => statusListeners.delete(listener);
    },
  };
}
