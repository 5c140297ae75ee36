import { ref, type Ref } from 'vue';
import { errorMessage } from '@/util/format';

/**
 * What every list store shares: the list, whether it has loaded once, a load in flight, and the last
 * load error (shown by the view; the previous list stays on screen).
 */
export function useLoadedList<T>(fetch: () => Promise<T[]>, afterLoad?: (items: T[]) => void) {
  const items = ref<T[]>([]) as Ref<T[]>;
  const loaded = ref(false);
  const loading = ref(false);
  const error = ref<string | null>(null);

  async function refresh(): Promise<void> {
    loading.value = true;
    try {
      items.value = await fetch();
      error.value = null;
      loaded.value = true;
      afterLoad?.(items.value);
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      loading.value = false;
    }
  }

  async function ensureLoaded(): Promise<void> {
    if (!loaded.value) await refresh();
  }

  return { items, loaded, loading, error, refresh, ensureLoaded };
}
