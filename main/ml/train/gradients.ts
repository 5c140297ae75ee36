/**
 * tfjs-core registers no gradient functions by itself (the `@tensorflow/tfjs` union package does, through
 * `register_all_gradients`), so training must load them once. Only tfjs-core's ESM build has that module,
 * and its relative imports have no file extension ('./gradients/Abs_grad'), which Node's ESM loader refuses.
 * A module resolve hook, scoped to files inside @tensorflow/tfjs-core/dist, adds '.js' (or '/index.js');
 * it is registered from a data: URL so it works from the sources and from the bundles (node_modules stay
 * external there). The ESM copy shares the engine and the gradient registry with the CommonJS build
 * through tfjs' global namespace.
 */
import { register } from 'node:module';

const RESOLVE_HOOK = `
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
export async function resolve(specifier, context, next) {
  const parent = context.parentURL;
  if (parent && parent.includes('/@tensorflow/tfjs-core/dist/') && specifier.startsWith('.') && !specifier.endsWith('.js')) {
    const target = new URL(specifier, parent);
    const asFile = fileURLToPath(target) + '.js';
    return next(fs.existsSync(asFile) ? target.href + '.js' : target.href + '/index.js', context);
  }
  return next(specifier, context);
}
`;

let loading: Promise<void> | null = null;

export function ensureGradients(): Promise<void> {
  loading ??= (async () => {
    register(`data:text/javascript,${encodeURIComponent(RESOLVE_HOOK)}`);
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  })();
  return loading;
}
