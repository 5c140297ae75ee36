import { onBeforeUnmount, ref, type Ref } from 'vue';

/**
 * The part of the URL hash after the view id: `#/items/itm_123` gives `itm_123` inside the Items view.
 * The nav store keys views on the first segment, so sub-routes need no change to the shell.
 */
export function useSubRoute(viewId: string): { sub: Ref<string | null>; open(sub: string | null): void } {
  const read = (): string | null => {
    const match = new RegExp(`^#/${viewId}/(.+)$`).exec(location.hash);
    return match ? decodeURIComponent(match[1]!) : null;
  };
  const sub = ref(read());
  const onChange = (): void => {
    sub.value = read();
  };
  window.addEventListener('hashchange', onChange);
  onBeforeUnmount(() => window.removeEventListener('hashchange', onChange));
  return {
    sub,
    open(next) {
      location.hash = next ? `#/${viewId}/${encodeURIComponent(next)}` : `#/${viewId}`;
      sub.value = next;
    },
  };
}
