import { defineStore } from 'pinia';
import type { CallInput, CallResult } from '@contract';
import { api } from '@/api/client';
import { useLoadedList } from './loaded-list';

export type ModelDetails = CallResult<'weights.get'>;
export type ExportResult = CallResult<'weights.export'>;

/** Registered model weights (imported, pretrained, fine-tuned): the Models view and the pretraining wizard's init choice. */
export const useModelsStore = defineStore('models', () => {
  const {
    items: models,
    loaded,
    loading,
    error,
    refresh,
  } = useLoadedList(() => api().call('weights.list', { limit: 500 }));

  /** Starts the import job; the Jobs store follows its progress. */
  const startImport = (input: CallInput<'weights.import'>) => api().call('weights.import', input);
  const details = (id: string): Promise<ModelDetails> => api().call('weights.get', { id });
  const exportModel = (input: CallInput<'weights.export'>): Promise<ExportResult> =>
    api().call('weights.export', input);

  async function remove(id: string): Promise<void> {
    await api().call('weights.delete', { id });
    models.value = models.value.filter((m) => m.id !== id);
  }

  return { models, loaded, loading, error, refresh, startImport, details, exportModel, remove };
});
