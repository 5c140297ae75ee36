import { ref, type Ref } from 'vue';
import { errorMessage } from './format';

export interface Task {
  loading: Ref<boolean>;
  error: Ref<string | null>;
  /** Runs `fn`, tracking loading and keeping the error's message (the contract's `error.message`). */
  run<T>(fn: () => Promise<T>): Promise<T | undefined>;
}

/** Loading and error state for one kind of call in a view. */
export function useTask(): Task {
  const loading = ref(false);
  const error = ref<string | null>(null);
  let generation = 0;
  return {
    loading,
    error,
    async run(fn) {
      const mine = ++generation;
      loading.value = true;
      error.value = null;
      try {
        return await fn();
      } catch (err) {
        if (mine === generation) error.value = errorMessage(err);
        return undefined;
      } finally {
        if (mine === generation) loading.value = false;
      }
    },
  };
}
