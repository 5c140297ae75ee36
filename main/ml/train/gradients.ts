/**
 * tfjs-core registers no gradient functions by itself (the `@tensorflow/tfjs` union package does, through
 * `register_all_gradients`), so training must load them once. Only tfjs-core's ESM build has that module,
 * with extension-less relative imports; under plain Node (sources run by tsx, tests, job processes) a
 * scoped resolve hook supplies the extensions. A bundler resolves them itself. The ESM copy shares the
 * engine and the gradient registry with the CommonJS build through tfjs' global namespace.
 */
import { register } from 'node:module';

let loading: Promise<void> | null = null;

export function ensureGradients(): Promise<void> {
  loading ??= (async () => {
    if (import.meta.url.endsWith('.ts')) register('./tfjs-resolve-hook.mjs', import.meta.url);
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  })();
  return loading;
}
