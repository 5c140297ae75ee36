import { defineStore } from 'pinia';
import { reactive, ref } from 'vue';
import type { CallInput, ItemSummary } from '@contract';
import { api } from '@/api/client';
import { errorMessage } from '@/util/format';

export type ItemFilter = NonNullable<CallInput<'items.query'>['filter']>;
export const PAGE_SIZE = 48;

/**
 * The Items browser's state: filter, page, thumbnails and selection. Kept in a store so that opening
 * an item and coming back returns to the same page.
 */
export const useItemsStore = defineStore('items', () => {
  const datasetId = ref<string | null>(null);
  const filter = ref<ItemFilter>({});
  const offset = ref(0);
  const items = ref<ItemSummary[]>([]);
  const total = ref(0);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const thumbnails = reactive(new Map<number, string | null>());
  const selected = reactive(new Set<number>());
  let generation = 0;

  async function load(): Promise<void> {
    if (!datasetId.value) {
      items.value = [];
      total.value = 0;
      return;
    }
    const mine = ++generation;
    loading.value = true;
    try {
      const page = await api().call('items.query', { datasetId: datasetId.value, filter: filter.value, limit: PAGE_SIZE, offset: offset.value });
      if (mine !== generation) return;
      items.value = page.items;
      total.value = page.total;
      error.value = null;
      const missing = page.items.map((i) => i.id).filter((id) => !thumbnails.has(id));
      if (missing.length) {
        const thumbs = await api().call('items.thumbnails', { ids: missing });
        for (const t of thumbs) thumbnails.set(t.id, t.dataUrl);
      }
    } catch (err) {
      if (mine === generation) error.value = errorMessage(err);
    } finally {
      if (mine === generation) loading.value = false;
    }
  }

  function setDataset(id: string | null): void {
    if (id === datasetId.value) return;
    datasetId.value = id;
    filter.value = {};
    offset.value = 0;
    selected.clear();
  }

  function setFilter(next: ItemFilter): void {
    filter.value = next;
    offset.value = 0;
    selected.clear();
    void load();
  }

  function goTo(nextOffset: number): void {
    offset.value = nextOffset;
    void load();
  }

  function toggle(id: number): void {
    if (selected.has(id)) selected.delete(id);
    else selected.add(id);
  }

  function selectPage(on: boolean): void {
    for (const i of items.value) {
      if (on) selected.add(i.id);
      else selected.delete(i.id);
    }
  }

  /** Set (or clear with null) organ and/or class label of the selected items; undefined leaves a field alone. */
  async function labelSelected(change: { organ?: string | null; classLabel?: string | null }): Promise<number> {
    if (!datasetId.value || !selected.size) return 0;
    const { updated } = await api().call('labels.assign', { datasetId: datasetId.value, ids: [...selected], ...change });
    await load();
    return updated;
  }

  return { datasetId, filter, offset, items, total, loading, error, thumbnails, selected, load, setDataset, setFilter, goTo, toggle, selectPage, labelSelected };
});
