/**
 * The desktop transport of the typed contract: one `ipcMain.handle` per call (channel `usfm:call:<name>`)
 * that checks the sender and then goes through the same `dispatch` as browser mode; events from the
 * event bus are pushed to every app window on `usfm:event`.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { callNames as contractCallNames } from '../main/api/contract';
import { dispatch as contractDispatch, type CallOutcome } from '../main/api/dispatcher';
import type { AppContext } from '../main/app/context';
import type { EventBus } from '../main/app/event-bus';
import { callChannel, EVENT_CHANNEL, isAppUrl } from './constants';
import { isTrustedSender } from './security';

export const FORBIDDEN_OUTCOME: CallOutcome = {
  ok: false,
  error: { code: 'FORBIDDEN', message: 'calls are accepted only from the application window' },
};

export interface RegisterIpcOptions {
  callNames?: readonly string[];
  dispatch?: (ctx: AppContext, name: string, payload: unknown) => Promise<CallOutcome>;
}

/** Registers every call's handler; returns a function that removes them again. */
export function registerIpc(ipcMain: IpcMain, ctx: AppContext, options: RegisterIpcOptions = {}): () => void {
  const names = options.callNames ?? contractCallNames;
  const run = options.dispatch ?? contractDispatch;
  for (const name of names) {
    ipcMain.handle(
      callChannel(name),
      async (event: IpcMainInvokeEvent, payload?: unknown): Promise<CallOutcome> => {
        if (!isTrustedSender(event)) return FORBIDDEN_OUTCOME;
        return run(ctx, name, payload);
      },
    );
  }
  return () => {
    for (const name of names) ipcMain.removeHandler(callChannel(name));
  };
}

interface WindowLike {
  isDestroyed(): boolean;
  readonly webContents: WebContents;
}

/** Forward each contract event to every live app window as `{ event, payload }`; returns the unsubscribe. */
export function forwardEvents(events: EventBus, windows: () => readonly WindowLike[]): () => void {
  return events.subscribe((event, payload) => {
    for (const win of windows()) {
      if (win.isDestroyed()) continue;
      const contents = win.webContents;
      // Only the app's own page receives data; a window still loading (or elsewhere) is skipped.
      if (contents.isDestroyed() || !isAppUrl(contents.getURL())) continue;
      contents.send(EVENT_CHANNEL, { event, payload });
    }
  });
}
