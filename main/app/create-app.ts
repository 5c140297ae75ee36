import { openCatalog } from '../catalog/db';
import { JobRunner } from '../jobs/runner';
import { forkLauncher, type JobLauncher } from '../jobs/launcher';
import { EventBus } from './event-bus';
import { SettingsStore } from './settings';
import { probeBackendInChild } from '../ml/probe-client';
import type { AppContext, AppMode } from './context';
import type { BackendReport } from '../api/contract';

export interface CreateAppOptions {
  dataDir: string;
  mode: AppMode;
  /** How job processes start: child_process.fork by default, Electron's utilityProcess in the desktop app. */
  launcher?: JobLauncher;
  /** How the ML backend probe runs: a child Node process by default, a utilityProcess in the desktop app. */
  probeBackend?: (setting: string, wasmThreads: number) => Promise<BackendReport>;
  maxConcurrentJobs?: number;
}

/** Open the catalog, recover jobs of a previous instance, and wire the job runner to the event bus. */
export function createApp(options: CreateAppOptions): AppContext {
  const catalog = openCatalog(options.dataDir);
  const events = new EventBus();
  const settings = new SettingsStore(catalog.db);
  const jobs = new JobRunner({
    db: catalog.db,
    events,
    launcher: options.launcher ?? forkLauncher,
    dataDir: options.dataDir,
    settings: () => ({ ...settings.get() }),
    maxConcurrent: options.maxConcurrentJobs ?? 2,
  });
  jobs.recoverOrphans();

  let backend: Promise<BackendReport> | null = null;
  let backendKey = '';
  let closed = false;
  return {
    mode: options.mode,
    dataDir: options.dataDir,
    catalog,
    jobs,
    events,
    settings,
    backend() {
      const s = settings.get();
      const key = `${process.env.USFM_BACKEND ?? ''}|${s.backend}|${s.wasmThreads}`;
      if (!backend || key !== backendKey) {
        backendKey = key;
        backend = (options.probeBackend ?? probeBackendInChild)(s.backend, s.wasmThreads);
        backend.catch(() => (backend = null));
      }
      return backend;
    },
    async close() {
      if (closed) return;
      closed = true;
      await jobs.shutdown();
      catalog.close();
    },
  };
}
