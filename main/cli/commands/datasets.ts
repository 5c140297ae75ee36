import { UsageError, intOption, type CliCommand, type CommandContext } from '../command';
import { dispatch } from '../../api/dispatcher';
import type { CallName, DatasetSummary } from '../../api/contract';
import { resolveDataset, type Dataset } from '../../catalog/datasets';

/** Run a contract call; validation errors are usage errors (exit 2), others failures (exit 1). */
export async function call<T>(ctx: CommandContext, name: CallName, input: unknown): Promise<T> {
  const outcome = await dispatch(ctx.app(), name, input);
  if (!outcome.ok) {
    const details = outcome.error.details ? `: ${JSON.stringify(outcome.error.details)}` : '';
    if (outcome.error.code === 'VALIDATION') throw new UsageError(`${outcome.error.message}${details}`);
    throw new Error(outcome.error.message);
  }
  return outcome.result as T;
}

/** A dataset by id or name, or a clear error. */
export function datasetArg(ctx: CommandContext, idOrName: string | undefined): Dataset {
  if (!idOrName) throw new UsageError('a dataset NAME (or id) is needed');
  const ds = resolveDataset(ctx.app().catalog.db, idOrName);
  if (!ds) throw new Error(`no dataset "${idOrName}"`);
  return ds;
}

function summaryLine(d: DatasetSummary): string {
  const labels = d.classLabels.map((c) => `${c.label} ${c.count}`).join(', ');
  return `${d.id}  ${d.name}: ${d.items} items from ${d.sources} files, ${d.patients} patients, ${d.withMask} with masks${d.errors ? `, ${d.errors} import errors` : ''}${labels ? ` [${labels}]` : ''}`;
}

export const datasetsCommand: CliCommand = {
  name: 'datasets',
  summary: 'list, show, create, rename or delete datasets; list import errors',
  usage: [
    'Usage: usfm datasets [list] [--json]',
    '       usfm datasets show NAME',
    '       usfm datasets create NAME',
    '       usfm datasets rename NAME NEW_NAME',
    '       usfm datasets delete NAME',
    '       usfm datasets errors NAME [--limit N]',
    '',
    'NAME is a dataset name or id. Deleting removes catalog records only; source files are never touched.',
  ].join('\n'),
  options: { limit: { type: 'string' } },
  allowPositionals: true,
  async run(ctx) {
    const [sub = 'list', name, extra, ...rest] = ctx.positionals;
    if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
    switch (sub) {
      case 'list': {
        const all = await call<DatasetSummary[]>(ctx, 'datasets.list', {});
        ctx.result({ datasets: all }, all.length ? all.map(summaryLine).join('\n') : 'no datasets');
        return 0;
      }
      case 'show': {
        const d = await call<DatasetSummary>(ctx, 'datasets.get', { id: datasetArg(ctx, name).id });
        ctx.result({ dataset: d }, JSON.stringify(d, null, 2));
        return 0;
      }
      case 'create': {
        if (!name) throw new UsageError('usfm datasets create needs a NAME');
        const d = await call<Dataset>(ctx, 'datasets.create', { name });
        ctx.result({ dataset: d }, `created ${d.id} "${d.name}"`);
        return 0;
      }
      case 'rename': {
        if (!extra) throw new UsageError('usfm datasets rename needs NAME and NEW_NAME');
        const d = await call<Dataset>(ctx, 'datasets.rename', { id: datasetArg(ctx, name).id, name: extra });
        ctx.result({ dataset: d }, `renamed ${d.id} to "${d.name}"`);
        return 0;
      }
      case 'delete': {
        const ds = datasetArg(ctx, name);
        const r = await call<{ deleted: boolean }>(ctx, 'datasets.delete', { id: ds.id });
        ctx.result({ ...r, id: ds.id }, `deleted ${ds.id} "${ds.name}"`);
        return 0;
      }
      case 'errors': {
        const ds = datasetArg(ctx, name);
        const r = await call<{ errors: { file: string; code: string; message: string }[]; total: number }>(ctx, 'import.errors', {
          datasetId: ds.id,
          limit: intOption(ctx.values, 'limit', 100),
        });
        ctx.result(r, r.total ? [`${r.total} file(s) could not be imported:`, ...r.errors.map((e) => `  ${e.code.padEnd(26)} ${e.message}`)].join('\n') : 'no import errors');
        return 0;
      }
      default:
        throw new UsageError(`unknown datasets subcommand "${sub}"`);
    }
  },
};
