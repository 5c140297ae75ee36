/**
 * A short-lived process that selects the TensorFlow.js backend exactly as a job would and prints the
 * report as JSON: the app's main process never loads TensorFlow.js itself.
 */
import { selectBackend } from './backend';

const setting = process.argv[2] ?? 'auto';
const threads = Number(process.argv[3] ?? '1');
selectBackend({ setting, wasmThreads: threads })
  .then((report) => {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    process.exit(0);
  })
  .catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
