import type { CliCommand } from '../command';
import { dispatch } from '../../api/dispatcher';
import type { AppInfo } from '../../api/contract';

export const infoCommand: CliCommand = {
  name: 'info',
  summary: 'versions, ML backend in use (and why not a better one), data directory, catalog statistics',
  usage: 'Usage: usfm info [--data-dir DIR] [--json]',
  async run(ctx) {
    const outcome = await dispatch(ctx.app(), 'app.info', {});
    if (!outcome.ok) throw new Error(outcome.error.message);
    const info = outcome.result as AppInfo;
    const lines = [
      `${info.app.name} ${info.app.version} (${info.platform}, ${info.mode})`,
      `versions:   ${Object.entries(info.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
      `data dir:   ${info.dataDir}`,
      `backend:    ${info.backend.active}${info.backend.simd ? ' (SIMD)' : ''}${info.backend.threads ? `, ${info.backend.threads} thread(s)` : ''} [${info.backend.preference}, from ${info.backend.source}]`,
      ...info.backend.attempts.map((a) => `  ${a.ok ? '✓' : '✗'} ${a.name.padEnd(14)} ${a.reason}`),
      ...(info.backend.matmul
        ? [
            `products:   ${info.backend.matmul.engine}${info.backend.matmul.library ? ` (${info.backend.matmul.library}, ${info.backend.matmul.threads} thread(s))` : ''}: ${info.backend.matmul.reason}`,
          ]
        : []),
      `catalog:    schema v${info.catalog.schemaVersion}, ${(info.catalog.sizeBytes / 1024).toFixed(0)} KiB`,
      ...Object.entries(info.catalog.counts).map(([table, n]) => `  ${table.padEnd(16)} ${n}`),
    ];
    ctx.result(info, lines.join('\n'));
    return 0;
  },
};
