import type { AppContext } from './context';
import { ensureSampleDataset } from '../ingest/samples';

/**
 * Work done once when the app (desktop or browser mode) starts, after the UI is reachable:
 * first-run import of the bundled sample dataset. Each step is idempotent.
 * `USFM_NO_SAMPLES=1` skips the sample import (an installation that does not want it).
 */
export async function startupTasks(ctx: AppContext): Promise<void> {
  if (process.env.USFM_NO_SAMPLES === '1') return;
  ensureSampleDataset(ctx);
}
