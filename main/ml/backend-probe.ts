/**
 * A short-lived process that prepares the TensorFlow.js backend exactly as a job would (backend selection,
 * matrix-product engine) and prints the report as JSON: the app's main process never loads TensorFlow.js.
 */
import { prepareComputeBackend } from './train/backend-setup';

const setting = process.argv[2] ?? 'auto';
const threads = Number(process.argv[3] ?? '1');
prepareComputeBackend({ backend: setting, wasmThreads: threads })
  .then((report) => {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    process.exit(0);
  })
  .catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
