import { defineStore } from 'pinia';
import type { CallInput, CallResult, RunSummary } from '@contract';
import { api } from '@/api/client';
import { useLoadedList } from './loaded-list';

export type RunDetails = CallResult<'pretrain.getRun'>;
export type RunPreview = CallResult<'pretrain.preview'>;
export type PretrainInput = CallInput<'pretrain.start'>;

/** Pretraining runs: the list for the Runs view and the calls of the wizard and the monitor. */
export const useRunsStore = defineStore('runs', () => {
  const {
    items: runs,
    loaded,
    loading,
    error,
    refresh,
  } = useLoadedList(() => api().call('pretrain.listRuns', { limit: 200 }));

  function upsert(run: RunSummary): void {
    const i = runs.value.findIndex((r) => r.id === run.id);
    if (i >= 0) runs.value[i] = run;
    else runs.value.unshift(run);
  }

  async function start(input: PretrainInput): Promise<RunSummary> {
    const { run } = await api().call('pretrain.start', input);
    upsert(run);
    return run;
  }

  async function resume(runId: string): Promise<RunSummary> {
    const { run } = await api().call('pretrain.resume', { runId });
    upsert(run);
    return run;
  }

  const details = (runId: string, maxPoints = 600): Promise<RunDetails> =>
    api().call('pretrain.getRun', { runId, maxPoints });
  const preview = (runId: string, step?: number): Promise<RunPreview> =>
    api().call('pretrain.preview', { runId, step });

  return { runs, loaded, loading, error, refresh, upsert, start, resume, details, preview };
});
