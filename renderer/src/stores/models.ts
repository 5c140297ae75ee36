import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { CallInput, CallResult, ModelRecordResult } from '@contract';
import { api } from '@/api/client';
import { errorMessage } from '@/util/format';

export type ModelDetails = CallResult<'weights.get'>;
export type ExportResult = CallResult<'weights.export'>;

/** Registered model weights (imported, pretrained, fine-tuned): the Models view and the pretraining wizard's init choice. */
export const useModelsStore = defineStore('models', () => {
  const models = ref<ModelRecordResult[]>([]);
  const loaded = ref(false);
  const loading = ref(false);
  const error = ref<string | null>(null);

  async function refresh(): Promise<void> {
    loading.value = true;
    try {
      models.value = await api().call('weights.list', { limit: 500 });
      error.value = null;
      loaded.value = true;
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      loading.value = false;
    }
  }

  /** Starts the import job; the Jobs store follows its progress. */
  const startImport = (input: CallInput<'weights.import'>) => api().call('weights.import', input);
  const details = (id: string): Promise<ModelDetails> => api().call('weights.get', { id });
  const exportModel = (input: CallInput<'weights.export'>): Promise<ExportResult> => api().call('weights.export', input);

  async function remove(id: string): Promise<void> {
    await api().call('weights.delete', { id });
    models.value = models.value.filter((m) => m.id !== id);
  }

  return { models, loaded, loading, error, refresh, startImport, details, exportModel, remove };
});
