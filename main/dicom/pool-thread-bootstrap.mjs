// Worker-thread entry of DecodePool when running from TypeScript sources (tests, development):
// worker threads do not inherit `--import tsx`, so the TypeScript worker is loaded through tsx's API.
// Bundled builds start dist/main/dicom-worker.mjs directly and never use this file.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.tsEntry, import.meta.url);
