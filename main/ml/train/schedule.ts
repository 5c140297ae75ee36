/** Learning-rate schedule: linear warmup from 0, then cosine decay to `minLr` (MAE / SimMIM / USFM). */
export interface LrSchedule {
  /** Peak rate: base_lr × effective batch / 256. */
  peakLr: number;
  minLr: number;
  warmupSteps: number;
  totalSteps: number;
}

/** Linear scaling rule of Goyal et al., as MAE and SimMIM state it. */
export function scaledLr(baseLr: number, effectiveBatch: number): number {
  return (baseLr * effectiveBatch) / 256;
}

/** The rate used for optimizer step `step` (0-based). */
export function learningRate(s: LrSchedule, step: number): number {
  if (s.warmupSteps > 0 && step < s.warmupSteps) return (s.peakLr * (step + 1)) / s.warmupSteps;
  const decaySteps = Math.max(1, s.totalSteps - s.warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - s.warmupSteps) / decaySteps));
  return s.minLr + (s.peakLr - s.minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
