import { testApp } from '../helpers/app';

/** Job machinery overhead: time from start to first progress, and to end, of a trivial job process. */
export async function bench(): Promise<void> {
  const { app, dispose } = testApp('cli');
  try {
    const runs = 5;
    const firstProgress: number[] = [];
    const total: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      let first = 0;
      const unsubscribe = app.events.subscribe((event) => {
        if (event === 'job.progress' && !first) first = performance.now() - t0;
      });
      const job = app.jobs.start('selftest', { steps: 1, stepMs: 0 }, 'bench');
      await app.jobs.waitFor(job.id);
      unsubscribe();
      firstProgress.push(first);
      total.push(performance.now() - t0);
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `job process start → first progress: median ${median(firstProgress).toFixed(0)} ms over ${runs} runs`,
    );
    console.log(
      `job process start → recorded end:   median ${median(total).toFixed(0)} ms (includes tsx start-up in a source checkout)`,
    );
  } finally {
    await dispose();
  }
}
