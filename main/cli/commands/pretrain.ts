import { UsageError, choiceOption, intOption, numberOption, stringOption, type CliCommand, type CommandContext } from '../command';
import { ApiError } from '../../api/errors';
import { PretrainRequest, type RunDetails, type RunSummary } from '../../api/contract/pretrain';
import { dispatch } from '../../api/dispatcher';
import { createPretrainRun, prepareResume } from '../../api/handlers/pretrain';
import type { PretrainResult } from '../../ml/pretrain/trainer';

const USAGE = [
  'Usage: usfm pretrain --dataset NAME --recipe mae|usfm|usfm-plus --model tiny|small|base [--img 112|224]',
  '                     [--epochs N | --steps N] [--batch N] [--micro-batch N] [--init CHECKPOINT]',
  '                     [--cone-aware on|off] [--seed N] [--fill frequency|mean|token] [--alpha A] [--lr BASE_LR]',
  '                     [--checkpoint-every N] [--preview-every N] [--json]',
  '       usfm pretrain --resume RUN_ID [--json]',
  '       usfm pretrain runs [--limit N]',
  '       usfm pretrain show RUN_ID',
  '',
  'CHECKPOINT: a model id (mdl_…), a run id (run_…: its latest checkpoint) or a .safetensors file.',
  'Ctrl-C stops after a checkpoint; --resume continues the run and its loss curve.',
].join('\n');

function runLine(r: RunSummary): string {
  const loss = r.bestLoss === null ? '' : ` best loss ${r.bestLoss.toFixed(4)}`;
  return `${r.id}  ${r.state.padEnd(8)} ${(r.recipe ?? '').padEnd(9)} ViT-${r.model} ${r.imgSize}px  ${r.datasetName}  step ${r.step}/${r.totalSteps ?? '?'}${loss}`;
}

async function call(ctx: CommandContext, name: 'pretrain.listRuns' | 'pretrain.getRun', input: unknown): Promise<unknown> {
  const outcome = await dispatch(ctx.app(), name, input);
  if (!outcome.ok) {
    if (outcome.error.code === 'VALIDATION') throw new UsageError(outcome.error.message);
    throw new Error(outcome.error.message);
  }
  return outcome.result;
}

function request(ctx: CommandContext): PretrainRequest {
  const v = ctx.values;
  const coneAware = stringOption(v, 'cone-aware');
  const raw = {
    dataset: stringOption(v, 'dataset', true),
    recipe: choiceOption(v, 'recipe', ['mae', 'usfm', 'usfm-plus'] as const, 'mae'),
    model: choiceOption(v, 'model', ['tiny', 'small', 'base'] as const, 'tiny'),
    img: intOption(v, 'img'),
    epochs: intOption(v, 'epochs'),
    steps: intOption(v, 'steps'),
    batch: intOption(v, 'batch'),
    microBatch: intOption(v, 'micro-batch'),
    init: stringOption(v, 'init'),
    coneAware: coneAware === undefined ? undefined : choiceOption(v, 'cone-aware', ['on', 'off', 'auto'] as const, 'auto'),
    seed: intOption(v, 'seed'),
    fill: stringOption(v, 'fill'),
    alpha: numberOption(v, 'alpha'),
    baseLr: numberOption(v, 'lr'),
    checkpointEvery: intOption(v, 'checkpoint-every'),
    previewEvery: intOption(v, 'preview-every'),
  };
  if (!v.recipe) throw new UsageError('--recipe is required');
  if (!v.model) throw new UsageError('--model is required');
  const parsed = PretrainRequest.safeParse(Object.fromEntries(Object.entries(raw).filter(([, x]) => x !== undefined)));
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `${i.path.length ? `--${i.path.join('.')}: ` : ''}${i.message}`).join('; '));
  return parsed.data;
}

export const pretrainCommand: CliCommand = {
  name: 'pretrain',
  summary: 'pretrain a ViT with MAE, USFM or USFM+ on a dataset (a job with progress), resume a run, list runs',
  usage: USAGE,
  allowPositionals: true,
  options: {
    dataset: { type: 'string' },
    recipe: { type: 'string' },
    model: { type: 'string' },
    img: { type: 'string' },
    epochs: { type: 'string' },
    steps: { type: 'string' },
    batch: { type: 'string' },
    'micro-batch': { type: 'string' },
    init: { type: 'string' },
    'cone-aware': { type: 'string' },
    seed: { type: 'string' },
    fill: { type: 'string' },
    alpha: { type: 'string' },
    lr: { type: 'string' },
    'checkpoint-every': { type: 'string' },
    'preview-every': { type: 'string' },
    resume: { type: 'string' },
    limit: { type: 'string' },
  },
  async run(ctx) {
    const [sub, id, ...extra] = ctx.positionals;
    if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    if (sub === 'runs') {
      const runs = (await call(ctx, 'pretrain.listRuns', { limit: intOption(ctx.values, 'limit', 50) })) as RunSummary[];
      ctx.result({ runs }, runs.length ? runs.map(runLine).join('\n') : 'no pretraining runs');
      return 0;
    }
    if (sub === 'show') {
      if (!id) throw new UsageError('usfm pretrain show needs a RUN_ID');
      const run = (await call(ctx, 'pretrain.getRun', { runId: id, maxPoints: 20 })) as RunDetails;
      const curve = run.curve.map((p) => `  step ${String(p.step).padStart(6)}  loss ${p.loss.toFixed(4)}  lr ${p.lr.toExponential(2)}`);
      ctx.result({ run }, [runLine(run), `backend ${run.backend ?? '?'}, seed ${run.seed}, manifest ${run.manifestHash?.slice(0, 12) ?? '?'}`, ...curve].join('\n'));
      return 0;
    }
    if (sub !== undefined) throw new UsageError(`unknown pretrain subcommand "${sub}"`);
    const app = ctx.app();
    let prepared: { runId: string; title: string };
    try {
      prepared = ctx.values.resume ? prepareResume(stringOption(ctx.values, 'resume', true), app) : createPretrainRun(request(ctx), app);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'BAD_INPUT') throw new UsageError(err.message);
      throw err;
    }
    ctx.print(`run ${prepared.runId}`);
    const job = await ctx.runJob('pretrain', { runId: prepared.runId }, prepared.title);
    if (job.state !== 'succeeded') {
      const hint = job.state === 'cancelled' || job.state === 'interrupted' ? ` (resume with: usfm pretrain --resume ${prepared.runId})` : '';
      throw new Error(`${job.error ? `${job.error.code}: ${job.error.message}` : `the pretraining job ${job.id} ended ${job.state}`}${hint}`);
    }
    const result = job.result as PretrainResult;
    ctx.result(
      { job, run: result },
      `run ${result.runId} finished: ${result.steps} steps, loss ${result.loss?.toFixed(4) ?? '?'}${result.modelId ? `, model ${result.modelId}` : ''}`,
    );
    return 0;
  },
};
