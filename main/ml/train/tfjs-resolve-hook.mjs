// Module resolve hook (node:module register) for tfjs-core's ESM build, whose relative imports have no
// file extension ('./gradients/Abs_grad'): Node's ESM loader needs '.js' (or '/index.js' for folders).
// Scoped to files inside @tensorflow/tfjs-core/dist; everything else resolves unchanged.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function resolve(specifier, context, next) {
  const parent = context.parentURL;
  if (parent && parent.includes('/@tensorflow/tfjs-core/dist/') && specifier.startsWith('.') && !specifier.endsWith('.js')) {
    const target = new URL(specifier, parent);
    const asFile = `${fileURLToPath(target)}.js`;
    return next(fs.existsSync(asFile) ? `${target.href}.js` : `${target.href}/index.js`, context);
  }
  return next(specifier, context);
}
