import type { JobKind } from '../job-kind';

/**
 * Every kind of job, loaded lazily inside the job process so the app's main process never loads
 * TensorFlow.js or codecs. Add a line per kind.
 */
export const jobKinds: Record<string, () => Promise<JobKind<never>>> = {
  selftest: async () => (await import('./selftest')).selfTestJob as JobKind<never>,
  import: async () => (await import('../../ingest/import-job')).importJob as JobKind<never>,
  'weights-import': async () => (await import('../../weights/import-job')).weightsImportJob as JobKind<never>,
  'dataset-export': async () => (await import('../../weights/dataset-export-job')).datasetExportJob as JobKind<never>,
  pretrain: async () => (await import('./pretrain')).pretrainJob as JobKind<never>,
};

export function isJobKind(kind: string): boolean {
  return Object.hasOwn(jobKinds, kind);
}
