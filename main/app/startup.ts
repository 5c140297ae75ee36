import type { AppContext } from './context';

/**
 * Work done once when the app (desktop or browser mode) starts, after the UI is reachable:
 * first-run import of the bundled sample dataset. Each step is idempotent.
 */
export async function startupTasks(_ctx: AppContext): Promise<void> {
  // The ingestion feature registers the sample import here (ensureSampleDataset).
}
