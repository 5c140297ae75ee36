import { UsageError, choiceOption, intOption, numberOption, stringOption, type CliCommand } from '../command';
import type { z } from 'zod';
import type { SplitSummarySchema } from '../../api/contract';
import { call, datasetArg } from './datasets';

type SplitSummary = z.infer<typeof SplitSummarySchema>;

export const splitCommand: CliCommand = {
  name: 'split',
  summary: 'split a dataset into train/val/test: seeded, grouped by patient, stratified by label',
  usage: [
    'Usage: usfm split --dataset NAME --seed N [--test 0.2] [--val 0.1] [--stratify auto|class_label|organ|none] [--json]',
    '       usfm split --dataset NAME --show',
    '',
    'No patient falls in two parts (items are grouped by pseudonymous patient key; identical images go',
    'with their original). The new split becomes the dataset\'s current one.',
  ].join('\n'),
  options: { dataset: { type: 'string' }, seed: { type: 'string' }, test: { type: 'string' }, val: { type: 'string' }, stratify: { type: 'string' }, show: { type: 'boolean', default: false } },
  async run(ctx) {
    const ds = datasetArg(ctx, stringOption(ctx.values, 'dataset', true));
    const text = (s: SplitSummary): string =>
      [
        `split ${s.id} of "${ds.name}" (seed ${s.seed}, test ${s.test}, val ${s.val}, stratified by ${s.stratify ?? 'nothing'})`,
        ...(['train', 'val', 'test'] as const).map((p) => `  ${p.padEnd(5)} ${String(s.counts[p]?.items ?? 0).padStart(7)} items, ${s.counts[p]?.patients ?? 0} patients`),
      ].join('\n');
    if (ctx.values.show) {
      const s = await call<SplitSummary | null>(ctx, 'splits.get', { datasetId: ds.id });
      ctx.result({ split: s }, s ? text(s) : `"${ds.name}" has no split yet`);
      return 0;
    }
    const seed = intOption(ctx.values, 'seed');
    if (seed === undefined) throw new UsageError('--seed is required');
    const s = await call<SplitSummary>(ctx, 'splits.create', {
      datasetId: ds.id,
      seed,
      test: numberOption(ctx.values, 'test', 0.2),
      val: numberOption(ctx.values, 'val', 0),
      stratify: choiceOption(ctx.values, 'stratify', ['auto', 'class_label', 'organ', 'none'] as const, 'auto'),
    });
    ctx.result({ split: s }, text(s));
    return 0;
  },
};
