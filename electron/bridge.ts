/**
 * What the preload exposes as `window.usfm` (see electron/README.md): one function per contract call,
 * a generic `call`, and `onEvent`. Every call resolves to the dispatcher's outcome object and never
 * rejects; the raw ipcRenderer and its event objects never reach the page.
 */
import type { IpcRenderer, IpcRendererEvent } from 'electron';
import { callChannel, EVENT_CHANNEL } from './constants';

export type BridgeError = { code: string; message: string; details?: unknown };
export type BridgeOutcome = { ok: true; result: unknown } | { ok: false; error: BridgeError };
export type BridgeCall = (input?: unknown) => Promise<BridgeOutcome>;
export type BridgeEventListener = (event: string, payload: unknown) => void;

export interface BridgeApi {
  call(name: string, input?: unknown): Promise<BridgeOutcome>;
  onEvent(listener: BridgeEventListener): () => void;
  [callName: string]: BridgeCall | BridgeApi['call'] | BridgeApi['onEvent'];
}

const RESERVED = new Set(['call', 'onEvent']);

function isOutcome(value: unknown): value is BridgeOutcome {
  return typeof value === 'object' && value !== null && typeof (value as { ok?: unknown }).ok === 'boolean';
}

export function createBridgeApi(
  ipc: Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>,
  callNames: readonly string[],
): BridgeApi {
  const known = new Set(callNames);
  const invoke = async (name: string, input: unknown): Promise<BridgeOutcome> => {
    if (!known.has(name))
      return {
        ok: false,
        error: { code: 'UNKNOWN_CALL', message: `unknown call ${JSON.stringify(String(name)).slice(0, 80)}` },
      };
    try {
      const outcome = await ipc.invoke(callChannel(name), input ?? {});
      return isOutcome(outcome)
        ? outcome
        : { ok: false, error: { code: 'INTERNAL', message: 'malformed reply from the main process' } };
    } catch (err) {
      // invoke rejects when the input cannot be cloned (functions, DOM nodes) or the handler is gone.
      const message =
        err instanceof Error
          ? err.message.replace(/^Error invoking remote method '[^']*': /, '')
          : String(err);
      return { ok: false, error: { code: 'BAD_INPUT', message: message.slice(0, 300) } };
    }
  };

  const api: BridgeApi = {
    call: (name, input) => invoke(name, input),
    onEvent(listener) {
      if (typeof listener !== 'function') throw new TypeError('onEvent needs a function');
      const relay = (_event: IpcRendererEvent, message: unknown): void => {
        if (typeof message !== 'object' || message === null) return;
        const { event, payload } = message as { event?: unknown; payload?: unknown };
        if (typeof event === 'string') listener(event, payload);
      };
      ipc.on(EVENT_CHANNEL, relay);
      return () => {
        ipc.removeListener(EVENT_CHANNEL, relay);
      };
    },
  };
  for (const name of callNames) {
    if (RESERVED.has(name)) throw new Error(`contract call name "${name}" clashes with the bridge API`);
    api[name] = (input?: unknown) => invoke(name, input);
  }
  return api;
}
