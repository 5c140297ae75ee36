import type { JobKind } from '../job-kind';

/**
 * Every kind of job, loaded lazily inside the job process so the app's main process never loads
 * TensorFlow.js or codecs. Add a line per kind.
 */
export const jobKinds: Record<string, () => Promise<JobKind<never>>> = {
  selftest: async () => (await import('./selftest')).selfTestJob as JobKind<never>,
};

export function isJobKind(kind: string): boolean {
  return Object.hasOwn(jobKinds, kind);
}
