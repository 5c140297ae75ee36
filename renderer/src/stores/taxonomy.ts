import { defineStore } from 'pinia';
import type { CallResult } from '@contract';
import { api } from '@/api/client';
import { useLoadedList } from './loaded-list';

export type Organ = CallResult<'taxonomy.list'>[number];

/** The organ taxonomy (editable in Labels, used by the filters and the bulk labelling). */
export const useTaxonomyStore = defineStore('taxonomy', () => {
  const {
    items: organs,
    loaded,
    loading,
    error,
    refresh,
    ensureLoaded,
  } = useLoadedList(() => api().call('taxonomy.list', {}));

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

  const nameOf = (id: string | null): string =>
    id ? (organs.value.find((o) => o.id === id)?.name ?? id) : '—';

  return { organs, loaded, loading, error, refresh, ensureLoaded, add, rename, remove, move, nameOf };
});
