import { createApp } from '../../main/app/create-app';
import type { AppContext } from '../../main/app/context';
import type { EventName, EventPayload, JobRecord } from '../../main/api/contract';
import { tempDir } from './temp';

/** A real app (real SQLite file, real forked job processes) in a temporary data directory. */
export function testApp(mode: AppContext['mode'] = 'browser'): { app: AppContext; dataDir: string; dispose: () => Promise<void> } {
  const { dir, cleanup } = tempDir('usfm-app-');
  const app = createApp({ dataDir: dir, mode });
  return {
    app,
    dataDir: dir,
    dispose: async () => {
      await app.close();
      cleanup();
    },
  };
}

/** Resolve with the first event of that name that satisfies `match`, or reject after `timeoutMs`. */
export function nextEvent<E extends EventName>(app: AppContext, event: E, match: (p: EventPayload<E>) => boolean, timeoutMs = 30_000): Promise<EventPayload<E>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no ${event} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = app.events.subscribe((name, payload) => {
      if ((name as string) === event && match(payload as unknown as EventPayload<E>)) {
        clearTimeout(timer);
        unsubscribe();
        resolve(payload as unknown as EventPayload<E>);
      }
    });
  });
}

export function jobState(app: AppContext, id: string, state: JobRecord['state'], timeoutMs?: number): Promise<JobRecord> {
  return nextEvent(app, 'job.state', (j) => j.id === id && j.state === state, timeoutMs);
}
