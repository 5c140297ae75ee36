import { defineStore } from 'pinia';
import { ref, type Component } from 'vue';

export interface NavEntry {
  id: string;
  label: string;
  component: () => Promise<Component>;
}

/** The views of the app, in sidebar order. Add an entry per view. The current view follows the URL hash. */
export const views: NavEntry[] = [
  { id: 'datasets', label: 'Datasets', component: () => import('@/views/DatasetsView.vue') },
  { id: 'items', label: 'Items', component: () => import('@/views/ItemsView.vue') },
  { id: 'labels', label: 'Labels', component: () => import('@/views/LabelsView.vue') },
  { id: 'splits', label: 'Splits', component: () => import('@/views/SplitsView.vue') },
  { id: 'pretrain', label: 'Pretrain', component: () => import('@/views/PretrainView.vue') },
  { id: 'runs', label: 'Runs', component: () => import('@/views/RunsView.vue') },
  { id: 'models', label: 'Models', component: () => import('@/views/ModelsView.vue') },
  { id: 'jobs', label: 'Jobs', component: () => import('@/views/JobsView.vue') },
  { id: 'settings', label: 'Settings', component: () => import('@/views/SettingsView.vue') },
];

export const useNavStore = defineStore('nav', () => {
  const fromHash = (): string => {
    const id = /^#\/([\w-]+)/.exec(location.hash)?.[1];
    return views.some((v) => v.id === id) ? id! : views[0]!.id;
  };
  const current = ref(fromHash());
  window.addEventListener('hashchange', () => (current.value = fromHash()));
  function go(id: string): void {
    location.hash = `#/${id}`;
    current.value = id;
  }
  return { current, go };
});
