import { UsageError, stringOption, type CliCommand } from '../command';
import { resolveOrgan } from '../../catalog/labels';
import { call, datasetArg } from './datasets';

interface Organ {
  id: string;
  name: string;
  items: number;
}

export const labelsCommand: CliCommand = {
  name: 'labels',
  summary: 'edit the organ taxonomy; assign organs and class labels to items',
  usage: [
    'Usage: usfm labels [list] [--json]',
    '       usfm labels add NAME | rename ORGAN NEW_NAME | remove ORGAN',
    '       usfm labels assign --dataset NAME (--items 1,2,5-9 | --all | --where-class LABEL | --where-organ ORGAN|none)',
    '                          [--organ ORGAN|none] [--class LABEL|none]',
    '',
    'ORGAN is an organ id or name. Removing an organ leaves its items without one.',
  ].join('\n'),
  options: {
    dataset: { type: 'string' },
    items: { type: 'string' },
    all: { type: 'boolean', default: false },
    'where-class': { type: 'string' },
    'where-organ': { type: 'string' },
    organ: { type: 'string' },
    class: { type: 'string' },
  },
  allowPositionals: true,
  async run(ctx) {
    const [sub = 'list', a, b, ...rest] = ctx.positionals;
    if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
    const db = () => ctx.app().catalog.db;
    const organId = (arg: string | undefined): string => {
      if (!arg) throw new UsageError('an ORGAN is needed');
      const o = resolveOrgan(db(), arg);
      if (!o) throw new Error(`"${arg}" is not in the organ taxonomy`);
      return o.id;
    };
    switch (sub) {
      case 'list': {
        const organs = await call<Organ[]>(ctx, 'taxonomy.list', {});
        ctx.result({ organs }, organs.map((o) => `${o.id.padEnd(16)} ${o.name.padEnd(22)} ${o.items} item(s)`).join('\n'));
        return 0;
      }
      case 'add': {
        if (!a) throw new UsageError('usfm labels add needs a NAME');
        const o = await call<Organ>(ctx, 'taxonomy.add', { name: a });
        ctx.result({ organ: o }, `added ${o.id} "${o.name}"`);
        return 0;
      }
      case 'rename': {
        if (!b) throw new UsageError('usfm labels rename needs ORGAN and NEW_NAME');
        const o = await call<Organ>(ctx, 'taxonomy.rename', { id: organId(a), name: b });
        ctx.result({ organ: o }, `renamed ${o.id} to "${o.name}"`);
        return 0;
      }
      case 'remove': {
        const id = organId(a);
        const r = await call<{ unlabelled: number }>(ctx, 'taxonomy.remove', { id });
        ctx.result({ id, ...r }, `removed ${id}; ${r.unlabelled} item(s) lost their organ`);
        return 0;
      }
      case 'assign': {
        const ds = datasetArg(ctx, stringOption(ctx.values, 'dataset', true));
        const organArg = stringOption(ctx.values, 'organ');
        const classArg = stringOption(ctx.values, 'class');
        if (organArg === undefined && classArg === undefined) throw new UsageError('give --organ and/or --class');
        const itemsArg = stringOption(ctx.values, 'items');
        const whereClass = stringOption(ctx.values, 'where-class');
        const whereOrgan = stringOption(ctx.values, 'where-organ');
        const selectors = [itemsArg !== undefined, Boolean(ctx.values.all), whereClass !== undefined || whereOrgan !== undefined].filter(Boolean).length;
        if (selectors !== 1) throw new UsageError('select items with one of --items, --all, --where-class/--where-organ');
        const input: Record<string, unknown> = { datasetId: ds.id };
        if (organArg !== undefined) input.organ = organArg === 'none' ? null : organId(organArg);
        if (classArg !== undefined) input.classLabel = classArg === 'none' ? null : classArg;
        if (itemsArg !== undefined) input.ids = parseIds(itemsArg);
        else {
          const filter: Record<string, unknown> = {};
          if (whereClass !== undefined) filter.classLabel = whereClass === 'none' ? null : whereClass;
          if (whereOrgan !== undefined) filter.organ = whereOrgan === 'none' ? null : organId(whereOrgan);
          input.filter = filter;
        }
        const r = await call<{ updated: number }>(ctx, 'labels.assign', input);
        ctx.result(r, `updated ${r.updated} item(s)`);
        return 0;
      }
      default:
        throw new UsageError(`unknown labels subcommand "${sub}"`);
    }
  },
};

/** "1,2,5-9" -> [1, 2, 5, 6, 7, 8, 9] */
export function parseIds(text: string): number[] {
  const ids: number[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new UsageError(`"${part}" is not an item id or range`);
    const from = Number(m[1]);
    const to = m[2] ? Number(m[2]) : from;
    if (to < from || to - from > 200_000) throw new UsageError(`bad range "${part}"`);
    for (let i = from; i <= to; i++) ids.push(i);
  }
  return ids;
}
