import type { Catalog } from '../catalog/db';
import type { JobRunner } from '../jobs/runner';
import type { EventBus } from './event-bus';
import type { SettingsStore } from './settings';
import type { BackendReport } from '../api/contract';

export type AppMode = 'electron' | 'browser' | 'cli';

/** Everything a contract handler may use. One per running app (desktop, browser mode or CLI). */
export interface AppContext {
  readonly mode: AppMode;
  readonly dataDir: string;
  readonly catalog: Catalog;
  readonly jobs: JobRunner;
  readonly events: EventBus;
  readonly settings: SettingsStore;
  /** The TensorFlow.js backend job processes will use, probed once in a child process. */
  backend(): Promise<BackendReport>;
  close(): Promise<void>;
}
