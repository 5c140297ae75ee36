import { expect } from 'vitest';

/** `expect.poll` with UI-friendly defaults (vitest's default is one second). */
export function poll<T>(read: () => T | Promise<T>, timeout = 20_000): ReturnType<typeof expect.poll<T>> {
  return expect.poll(read, { timeout, interval: 100 });
}
