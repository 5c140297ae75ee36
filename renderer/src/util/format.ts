/** Display helpers shared by the views. */

export function formatDateTime(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '';
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value == null || !Number.isFinite(value)) return '—';
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) return value.toExponential(2);
  return Number(value.toPrecision(digits)).toString();
}

/**
 * The message of anything thrown by a call (ApiCallError carries the contract's error.message); for
 * invalid input, the fields at fault and why (the error's details).
 */
export function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const details = (err as Error & { error?: { details?: unknown } }).error?.details;
  if (!Array.isArray(details) || !details.length) return err.message;
  const issues = details
    .filter((d): d is { path?: unknown; message: string } => typeof d === 'object' && d !== null && typeof (d as { message?: unknown }).message === 'string')
    .map((d) => (typeof d.path === 'string' && d.path ? `${d.path}: ${d.message}` : d.message));
  return issues.length ? `${err.message}: ${issues.join('; ')}` : err.message;
}
