import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { CallResult } from '@contract';
import { api } from '@/api/client';
import { errorMessage } from '@/util/format';

export type Organ = CallResult<'taxonomy.list'>[number];

/** The organ taxonomy (editable in Labels, used by the filters and the bulk labelling). */
export const useTaxonomyStore = defineStore('taxonomy', () => {
  const organs = ref<Organ[]>([]);
  const loaded = ref(false);
  const loading = ref(false);
  const error = ref<string | null>(null);

  async function refresh(): Promise<void> {
    loading.value = true;
    try {
      organs.value = await api().call('taxonomy.list', {});
      error.value = null;
      loaded.value = true;
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      loading.value = false;
    }
  }

  async function ensureLoaded(): Promise<void> {
    if (!loaded.value) await refresh();
  }

  async function add(name: string): Promise<void> {
    await api().call('taxonomy.add', { name });
    await refresh();
  }

  async function rename(id: string, name: string): Promise<void> {
    await api().call('taxonomy.rename', { id, name });
    await refresh();
  }

  async function remove(id: string): Promise<number> {
    const { unlabelled } = await api().call('taxonomy.remove', { id });
    await refresh();
    return unlabelled;
  }

  async function move(id: string, delta: -1 | 1): Promise<void> {
    const ids = organs.value.map((o) => o.id);
    const i = ids.indexOf(id);
    const j = i + delta;
    if (i < 0 || j < 0 || j >= ids.length) return;
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
    organs.value = await api().call('taxonomy.reorder', { ids });
  }

  const nameOf = (id: string | null): string => (id ? (organs.value.find((o) => o.id === id)?.name ?? id) : '—');

  return { organs, loaded, loading, error, refresh, ensureLoaded, add, rename, remove, move, nameOf };
});
