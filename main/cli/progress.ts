import type { JobProgress } from '../api/contract';

function formatSeconds(s: number | null | undefined): string {
  if (s == null || !Number.isFinite(s)) return '--:--';
  const total = Math.max(0, Math.round(s));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

/** One-line progress bar for terminals: redrawn in place, at most 10 times a second. */
export class ProgressBar {
  private last = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly width = 28,
  ) {}

  static render(p: JobProgress, width = 28): string {
    const fraction = p.total ? Math.min(1, p.step / p.total) : null;
    const filled = fraction === null ? 0 : Math.round(fraction * width);
    const bar = fraction === null ? '?'.repeat(width) : '█'.repeat(filled) + '░'.repeat(width - filled);
    const pct = fraction === null ? '' : `${(fraction * 100).toFixed(0).padStart(3)}%`;
    const count = p.total ? `${p.step}/${p.total}` : `${p.step}`;
    const rate = p.rate != null ? ` ${p.rate.toFixed(p.rate < 10 ? 2 : 1)} ${p.rateUnit ?? '/s'}` : '';
    const metrics = p.metrics
      ? ' ' + Object.entries(p.metrics).slice(0, 4).map(([k, v]) => `${k}=${Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4 ? v.toExponential(2) : v.toFixed(4)}`).join(' ')
      : '';
    return `${p.phase} ${bar} ${pct} ${count}${rate} ETA ${formatSeconds(p.etaSeconds)}${metrics}`;
  }

  update(p: JobProgress): void {
    const now = Date.now();
    if (now - this.last < 100 && p.step !== p.total) return;
    this.last = now;
    const columns = this.stream.columns ?? 100;
    this.stream.write(`\r${ProgressBar.render(p, this.width).slice(0, columns - 1).padEnd(columns - 1)}`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
