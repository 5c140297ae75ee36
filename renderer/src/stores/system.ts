import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { AppInfo, Settings } from '@contract';
import { api } from '@/api/client';
import { errorMessage } from '@/util/format';

export const useSystemStore = defineStore('system', () => {
  const info = ref<AppInfo | null>(null);
  const settings = ref<Settings | null>(null);
  const error = ref<string | null>(null);
  const connection = ref<'connecting' | 'open' | 'closed'>('connecting');

  async function load(): Promise<void> {
    try {
      [info.value, settings.value] = await Promise.all([api().call('app.info', {}), api().call('settings.get', {})]);
      error.value = null;
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  async function updateSettings(patch: Partial<Settings>): Promise<void> {
    settings.value = await api().call('settings.update', patch);
    info.value = await api().call('app.info', {});
  }

  function watchConnection(): void {
    api().onStatus((s) => (connection.value = s));
  }

  return { info, settings, error, connection, load, updateSettings, watchConnection };
});
