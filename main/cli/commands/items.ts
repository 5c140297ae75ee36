import { UsageError, choiceOption, intOption, stringOption, type CliCommand } from '../command';
import type { ItemSummary } from '../../api/contract';
import { resolveOrgan } from '../../catalog/labels';
import { call, datasetArg } from './datasets';

const SPLITS = ['any', 'train', 'val', 'test', 'unassigned'] as const;
const TRI = ['include', 'exclude', 'only'] as const;

function line(i: ItemSummary): string {
  const flags = [i.hasMask ? 'mask' : '', i.duplicateOf ? `dup-of-${i.duplicateOf}` : '', i.nearDuplicateOf ? `near-dup-of-${i.nearDuplicateOf}` : ''].filter(Boolean).join(',');
  const frame = i.sourceFrames > 1 ? `#${i.frameIndex}` : '';
  return [
    String(i.id).padStart(7),
    `${i.width}x${i.height}x${i.channels}@${i.bitDepth}`.padEnd(16),
    (i.organ ?? '-').padEnd(13),
    (i.classLabel ?? '-').padEnd(12),
    (i.split ?? '-').padEnd(5),
    `${i.relPath}${frame}`,
    flags ? `[${flags}]` : '',
  ].join(' ');
}

export const itemsCommand: CliCommand = {
  name: 'items',
  summary: 'list the items (frames) of a dataset, paged and filtered',
  usage: [
    'Usage: usfm items --dataset NAME [--organ ORGAN|none] [--class LABEL|none] [--split train|val|test|unassigned]',
    '                  [--with-mask] [--duplicates include|exclude|only] [--near-duplicates include|exclude|only]',
    '                  [--path TEXT] [--limit N] [--after ID] [--all] [--json]',
    '',
    'Pages of --limit items (default 50, or 200 with --json) in id order; --after continues after an id.',
    '--all lists every item (JSON: one page object per line).',
  ].join('\n'),
  options: {
    dataset: { type: 'string' },
    organ: { type: 'string' },
    class: { type: 'string' },
    split: { type: 'string' },
    'with-mask': { type: 'boolean', default: false },
    duplicates: { type: 'string' },
    'near-duplicates': { type: 'string' },
    path: { type: 'string' },
    limit: { type: 'string' },
    after: { type: 'string' },
    all: { type: 'boolean', default: false },
  },
  async run(ctx) {
    const ds = datasetArg(ctx, stringOption(ctx.values, 'dataset', true));
    const organArg = stringOption(ctx.values, 'organ');
    let organ: string | null | undefined;
    if (organArg === 'none') organ = null;
    else if (organArg) {
      const o = resolveOrgan(ctx.app().catalog.db, organArg);
      if (!o) throw new UsageError(`"${organArg}" is not in the organ taxonomy`);
      organ = o.id;
    }
    const classArg = stringOption(ctx.values, 'class');
    const split = choiceOption(ctx.values, 'split', SPLITS, 'any');
    const filter = {
      ...(organ !== undefined ? { organ } : {}),
      ...(classArg !== undefined ? { classLabel: classArg === 'none' ? null : classArg } : {}),
      ...(split !== 'any' ? { split } : {}),
      ...(ctx.values['with-mask'] ? { hasMask: true } : {}),
      duplicates: choiceOption(ctx.values, 'duplicates', TRI, 'include'),
      nearDuplicates: choiceOption(ctx.values, 'near-duplicates', TRI, 'include'),
      ...(stringOption(ctx.values, 'path') ? { pathContains: stringOption(ctx.values, 'path') } : {}),
    };
    const limit = intOption(ctx.values, 'limit', ctx.json ? 200 : 50)!;
    let afterId = intOption(ctx.values, 'after');
    const all = Boolean(ctx.values.all);
    type Page = { items: ItemSummary[]; total: number; nextCursor: number | null };
    for (let first = true; ; first = false) {
      const page = await call<Page>(ctx, 'items.query', { datasetId: ds.id, filter, limit: Math.min(500, limit), afterId });
      if (!all) {
        const more = page.nextCursor !== null ? `\n... more: --after ${page.nextCursor}` : '';
        ctx.result({ dataset: { id: ds.id, name: ds.name }, ...page }, `${page.total} item(s) in "${ds.name}"${page.items.length ? '\n' + page.items.map(line).join('\n') : ''}${more}`);
        return 0;
      }
      if (ctx.json) ctx.result({ dataset: { id: ds.id, name: ds.name }, ...page });
      else {
        if (first) ctx.print(`${page.total} item(s) in "${ds.name}"`);
        for (const i of page.items) ctx.print(line(i));
      }
      if (page.nextCursor === null) return 0;
      afterId = page.nextCursor;
    }
  },
};
