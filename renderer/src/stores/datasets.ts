import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { CallInput, DatasetSummary, JobRecord } from '@contract';
import { api } from '@/api/client';
import { useLoadedList } from './loaded-list';

const CURRENT_KEY = 'usfm.dataset';

/** Datasets with their counts, and the dataset the curation views work on (kept across reloads). */
export const useDatasetsStore = defineStore('datasets', () => {
  const currentId = ref<string | null>(localStorage.getItem(CURRENT_KEY));

  watch(currentId, (id) =>
    id ? localStorage.setItem(CURRENT_KEY, id) : localStorage.removeItem(CURRENT_KEY),
  );
  const {
    items: datasets,
    loaded,
    loading,
    error,
    refresh,
    ensureLoaded,
  } = useLoadedList(
    (): Promise<DatasetSummary[]> => api().call('datasets.list', {}),
    // Keep working on the chosen dataset; fall back to the first when it is gone.
    (list) => {
      if (!list.some((d) => d.id === currentId.value)) currentId.value = list[0]?.id ?? null;
    },
  );
  const current = computed(() => datasets.value.find((d) => d.id === currentId.value) ?? null);

  async function rename(id: string, name: string): Promise<void> {
    await api().call('datasets.rename', { id, name });
    await refresh();
  }

  async function remove(id: string): Promise<void> {
    await api().call('datasets.delete', { id });
    if (currentId.value === id) currentId.value = null;
    await refresh();
  }

  const startImport = (input: CallInput<'import.start'>): Promise<JobRecord> =>
    api().call('import.start', input);
  const importErrors = (input: CallInput<'import.errors'>) => api().call('import.errors', input);
  /** Starts the dataset-export job (MAE / USFM folder layouts for PyTorch); the Jobs store follows it. */
  const startExport = (input: CallInput<'datasets.export'>): Promise<JobRecord> => api().call('datasets.export', input);

  return {
    datasets,
    loaded,
    loading,
    error,
    currentId,
    current,
    refresh,
    ensureLoaded,
    rename,
    remove,
    startImport,
    importErrors,
    startExport,
  };
});
