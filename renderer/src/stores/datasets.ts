import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { CallInput, DatasetSummary, JobRecord } from '@contract';
import { api } from '@/api/client';
import { errorMessage } from '@/util/format';

const CURRENT_KEY = 'usfm.dataset';

/** Datasets with their counts, and the dataset the curation views work on (kept across reloads). */
export const useDatasetsStore = defineStore('datasets', () => {
  const datasets = ref<DatasetSummary[]>([]);
  const loaded = ref(false);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const currentId = ref<string | null>(localStorage.getItem(CURRENT_KEY));

  watch(currentId, (id) => (id ? localStorage.setItem(CURRENT_KEY, id) : localStorage.removeItem(CURRENT_KEY)));
  const current = computed(() => datasets.value.find((d) => d.id === currentId.value) ?? null);

  async function refresh(): Promise<void> {
    loading.value = true;
    try {
      datasets.value = await api().call('datasets.list', {});
      error.value = null;
      loaded.value = true;
      if (!current.value) currentId.value = datasets.value[0]?.id ?? null;
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      loading.value = false;
    }
  }

  async function ensureLoaded(): Promise<void> {
    if (!loaded.value) await refresh();
  }

  async function rename(id: string, name: string): Promise<void> {
    await api().call('datasets.rename', { id, name });
    await refresh();
  }

  async function remove(id: string): Promise<void> {
    await api().call('datasets.delete', { id });
    if (currentId.value === id) currentId.value = null;
    await refresh();
  }

  const startImport = (input: CallInput<'import.start'>): Promise<JobRecord> => api().call('import.start', input);
  const importErrors = (input: CallInput<'import.errors'>) => api().call('import.errors', input);

  return { datasets, loaded, loading, error, currentId, current, refresh, ensureLoaded, rename, remove, startImport, importErrors };
});
