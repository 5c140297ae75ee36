import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { JobRecord } from '@contract';
import { api } from '@/api/client';
import { errorMessage } from '@/util/format';

/** Live view of jobs: loaded once, then kept current by job.state and job.progress events. */
export const useJobsStore = defineStore('jobs', () => {
  const jobs = ref<JobRecord[]>([]);
  const error = ref<string | null>(null);
  let subscribed = false;

  function upsert(job: JobRecord): void {
    const i = jobs.value.findIndex((j) => j.id === job.id);
    if (i >= 0) jobs.value[i] = job;
    else jobs.value.unshift(job);
  }

  async function refresh(): Promise<void> {
    try {
      jobs.value = await api().call('jobs.list', { limit: 100 });
      error.value = null;
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  function subscribe(): void {
    if (subscribed) return;
    subscribed = true;
    api().on('job.state', (job) => upsert(job));
    api().on('job.progress', ({ id, progress }) => {
      const job = jobs.value.find((j) => j.id === id);
      if (job) job.progress = progress;
    });
    // After a reconnect the server may have moved on: reload the list.
    api().onStatus((status) => {
      if (status === 'open') void refresh();
    });
  }

  async function startSelfTest(steps = 20, stepMs = 150): Promise<JobRecord> {
    const job = await api().call('jobs.startSelfTest', { steps, stepMs });
    upsert(job);
    return job;
  }

  async function cancel(id: string): Promise<void> {
    upsert(await api().call('jobs.cancel', { id }));
  }

  const running = computed(() => jobs.value.filter((j) => j.state === 'running' || j.state === 'queued'));

  return { jobs, error, running, refresh, subscribe, startSelfTest, cancel };
});
