import path from 'node:path';
import { UsageError, choiceOption, intOption, stringOption, type CliCommand, type CommandContext } from '../command';
import { dispatch } from '../../api/dispatcher';
import type { ModelRecordResult } from '../../api/contract';
import { checkImportFile } from '../../weights/import-job';
import { describeConfig, type ModelConfig } from '../../weights/model-config';
import type { ImportReport } from '../../weights/layouts';

const LAYOUTS = ['auto', 'usfm', 'mae', 'timm'] as const;

function modelLine(m: ModelRecordResult): string {
  const c = m.config.vit;
  return `${m.id}  ${m.source.padEnd(10)} ${m.layout.padEnd(4)} ${m.task.padEnd(10)} ${`${c.embedDim}d x${c.depth} ${c.imgSize}px`.padEnd(18)} ${m.name}`;
}

function reportLines(report: ImportReport): string[] {
  const lines = [`source:     ${report.format}, ${report.sourceLayout} layout${report.wrapperKey ? ` (state dict under '${report.wrapperKey}')` : ''}${report.prefix ? `, prefix '${report.prefix}' removed` : ''}`];
  for (const c of report.converted) lines.push(`converted:  ${c}`);
  if (report.dropped.length) lines.push(`dropped:    ${report.dropped.join(', ')}`);
  if (report.missing.length) lines.push(`missing:    ${report.missing.join(', ')}`);
  if (report.unexpected.length) lines.push(`unexpected: ${report.unexpected.join(', ')} (not imported)`);
  for (const w of report.warnings) lines.push(`warning:    ${w}`);
  return lines;
}

async function call(ctx: CommandContext, name: Parameters<typeof dispatch>[1], input: unknown): Promise<unknown> {
  const outcome = await dispatch(ctx.app(), name, input);
  if (!outcome.ok) {
    const details = outcome.error.details ? `: ${JSON.stringify(outcome.error.details)}` : '';
    if (outcome.error.code === 'VALIDATION') throw new UsageError(`${outcome.error.message}${details}`);
    throw new Error(outcome.error.message);
  }
  return outcome.result;
}

async function importCommand(ctx: CommandContext, file: string | undefined): Promise<number> {
  if (!file) throw new UsageError('usfm weights import needs a FILE');
  const name = stringOption(ctx.values, 'name', true);
  const absolute = path.resolve(file);
  const problem = checkImportFile(absolute);
  if (problem) {
    if (problem.code === 'BAD_INPUT') throw new UsageError(problem.message);
    throw new Error(problem.message);
  }
  const params = {
    file: absolute,
    name,
    layout: choiceOption(ctx.values, 'layout', LAYOUTS, 'auto'),
    imgSize: intOption(ctx.values, 'img-size'),
    numHeads: intOption(ctx.values, 'heads'),
    keepDecoder: !ctx.values['no-decoder'],
    datasetManifest: stringOption(ctx.values, 'manifest') ? path.resolve(stringOption(ctx.values, 'manifest')!) : undefined,
  };
  const job = await ctx.runJob('weights-import', params, `Import weights "${name}" (${path.basename(absolute)})`);
  if (job.state !== 'succeeded') {
    // Exit 1 with the job's error code and message (a JSON error line with --json).
    throw new Error(job.error ? `${job.error.code}: ${job.error.message}` : `the import job ${job.id} ended ${job.state}`);
  }
  const { model, report } = job.result as { model: ModelRecordResult; report: ImportReport };
  ctx.result(
    { ok: true, job: job.id, model, report },
    [`imported ${model.id} "${model.name}": ${describeConfig(model.config as ModelConfig)}`, ...reportLines(report)].join('\n'),
  );
  return 0;
}

export const weightsCommand: CliCommand = {
  name: 'weights',
  summary: 'import PyTorch / safetensors checkpoints, export models as safetensors, list models',
  usage: [
    'Usage: usfm weights import FILE --name NAME [--layout auto|usfm|mae|timm] [--img-size N] [--heads N] [--no-decoder]',
    '                           [--manifest EXPORT/manifest.json] [--json]',
    '       usfm weights export MODEL_ID --out FILE.safetensors [--backbone-only] [--json]',
    '       usfm weights list [--source imported|pretrained|finetuned] [--json]',
    '       usfm weights show MODEL_ID',
    '       usfm weights delete MODEL_ID',
    '',
    'FILE: .safetensors, or .pth/.pt/.ckpt/.bin written by torch.save (read without Python; pickles are',
    'restricted to state-dict contents). --img-size resizes position tables to another image size.',
    '--manifest records the `usfm dataset export` the weights were trained on (cluster round trip).',
  ].join('\n'),
  options: {
    name: { type: 'string' },
    layout: { type: 'string' },
    'img-size': { type: 'string' },
    heads: { type: 'string' },
    'no-decoder': { type: 'boolean', default: false },
    manifest: { type: 'string' },
    out: { type: 'string' },
    'backbone-only': { type: 'boolean', default: false },
    source: { type: 'string' },
    limit: { type: 'string' },
  },
  allowPositionals: true,
  async run(ctx) {
    const [sub, arg, ...extra] = ctx.positionals;
    if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    switch (sub) {
      case 'import':
        return importCommand(ctx, arg);
      case 'export': {
        if (!arg) throw new UsageError('usfm weights export needs a MODEL_ID');
        const out = path.resolve(stringOption(ctx.values, 'out', true));
        const result = (await call(ctx, 'weights.export', { id: arg, out, backboneOnly: Boolean(ctx.values['backbone-only']) })) as { tensors: number; bytes: number };
        ctx.result({ ok: true, id: arg, out, ...result }, `wrote ${out}: ${result.tensors} tensors, ${(result.bytes / 1e6).toFixed(1)} MB`);
        return 0;
      }
      case 'list':
      case undefined: {
        if (arg) throw new UsageError(`unexpected argument: ${arg}`);
        const models = (await call(ctx, 'weights.list', { source: stringOption(ctx.values, 'source'), limit: intOption(ctx.values, 'limit', 200) })) as ModelRecordResult[];
        ctx.result({ models }, models.length ? models.map(modelLine).join('\n') : 'no models');
        return 0;
      }
      case 'show':
      case 'delete': {
        if (!arg) throw new UsageError(`usfm weights ${sub} needs a MODEL_ID`);
        const result = await call(ctx, sub === 'show' ? 'weights.get' : 'weights.delete', { id: arg });
        ctx.result(result as Record<string, unknown>, sub === 'show' ? JSON.stringify(result, null, 2) : `deleted ${arg}`);
        return 0;
      }
      default:
        throw new UsageError(`unknown weights subcommand "${sub}"`);
    }
  },
};
