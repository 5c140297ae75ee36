/**
 * `usfm verify-numerics DIR`: runs every comparison of the reference numerics contract
 * (shared/reference/README.md) against a fixture folder in that format (facts.json + safetensors), on the
 * active tfjs backend, so a new backend or device can be checked against PyTorch.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, toFloat32, type SafetensorsFile } from '../../weights/safetensors';
import { createVit, disposeVit, encode, loadStateDict, pool, vitConfig, type StateDict, type VitLayout, type VitModel } from '../vit';
import { bandEdges, bandStopMask, freqCorrupt, freqL2PerImage, l1PerImage, lsdPerImage, maeLoss, magnitudeSpectrum, ssimPerImage, usfmPlusLoss, USFM_PLUS_LAMBDAS } from '../losses';

export interface NumericsCheck {
  name: string;
  /** Largest absolute difference (tensors) ... */
  maxAbsErr?: number;
  /** ... or largest relative difference (scalars). */
  relErr?: number;
  tolerance: number;
  ok: boolean;
  detail?: string;
}

export interface NumericsReport {
  backend: string;
  checks: NumericsCheck[];
  ok: boolean;
}

/**
 * Tolerances of the contract (float32 against PyTorch). SSIM is the exception: PyTorch's float32 SSIM is
 * itself up to 1e-5 (relative) away from scikit-image's float64 value (E[x²] - μ² cancels digits), so it is
 * checked at 1e-5 against the float64 value (`ssim_skimage`) and at 2e-5 against PyTorch's.
 */
export const TOLERANCES = {
  vitTokens: 1e-4,
  scalarRel: 1e-5,
  ssimVsTorchRel: 2e-5,
  ssimVsFloat64Rel: 1e-5,
  spectrumAbs: 1e-4,
  corruptedAbs: 1e-4,
} as const;

function tensorOf(file: SafetensorsFile, name: string, source: string): { shape: number[]; data: Float32Array } {
  const t = file.tensors.get(name);
  if (!t) throw new Error(`${source}: no tensor "${name}"`);
  return { shape: t.shape, data: toFloat32(t) };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), 1e-12);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

function absCheck(name: string, got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number): NumericsCheck {
  const err = maxAbsDiff(got, want);
  return { name, maxAbsErr: err, tolerance, ok: err <= tolerance };
}

function relCheck(name: string, got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number): NumericsCheck {
  const err = maxRelDiff(got, want);
  return { name, relErr: err, tolerance, ok: err <= tolerance };
}

function numberArray(v: unknown, what: string): number[] {
  const arr = Array.isArray(v) ? v : [v];
  if (!arr.every((x) => typeof x === 'number')) throw new Error(`facts.json: "${what}" is not numeric`);
  return arr as number[];
}

/** The fixture's ViT: config from the safetensors metadata, weights loaded strictly by PyTorch name. */
export function loadFixtureVit(file: string, layout: VitLayout): VitModel {
  const weights = readSafetensors(file);
  const meta = weights.metadata;
  const num = (k: string) => {
    const v = Number(meta[k]);
    if (!Number.isFinite(v)) throw new Error(`${path.basename(file)}: metadata "${k}" missing`);
    return v;
  };
  const config = vitConfig(
    { embedDim: num('embed_dim'), depth: num('depth'), numHeads: num('heads') },
    { layout, patchSize: num('patch'), imgSize: num('img'), posEmbed: 'learned' },
  );
  const model = createVit(config);
  const state: StateDict = new Map([...weights.tensors].map(([k, t]) => [k, { shape: t.shape, data: toFloat32(t) }]));
  loadStateDict(model, state, { strict: true });
  return model;
}

function vitChecks(dir: string, layout: VitLayout): NumericsCheck[] {
  const prefix = `vit_${layout}`;
  const io = readSafetensors(path.join(dir, `${prefix}_io.safetensors`));
  const model = loadFixtureVit(path.join(dir, `${prefix}_weights.safetensors`), layout);
  try {
    const input = tensorOf(io, 'input', prefix);
    const want = tensorOf(io, 'tokens', prefix);
    const checks: NumericsCheck[] = [];
    tf.tidy(() => {
      const tokens = encode(model, tf.tensor4d(input.data, input.shape as [number, number, number, number]));
      checks.push(absCheck(`${prefix} tokens`, tokens.dataSync(), want.data, TOLERANCES.vitTokens));
      if (layout === 'beit') checks.push(absCheck(`${prefix} pooled`, pool(model, tokens).dataSync(), tensorOf(io, 'pooled', prefix).data, TOLERANCES.vitTokens));
    });
    return checks;
  } finally {
    disposeVit(model);
  }
}

function lossChecks(dir: string, facts: Record<string, unknown>): NumericsCheck[] {
  const io = readSafetensors(path.join(dir, 'losses_io.safetensors'));
  const gtT = tensorOf(io, 'gt', 'losses_io');
  const recT = tensorOf(io, 'rec', 'losses_io');
  const checks: NumericsCheck[] = [];
  const size = gtT.shape[3]!;
  tf.tidy(() => {
    const gt = tf.tensor4d(gtT.data, gtT.shape as [number, number, number, number]);
    const rec = tf.tensor4d(recT.data, recT.shape as [number, number, number, number]);
    const ssim = ssimPerImage(rec, gt).dataSync();
    checks.push(relCheck('ssim (vs PyTorch float32)', ssim, numberArray(facts.ssim, 'ssim'), TOLERANCES.ssimVsTorchRel));
    if (facts.ssim_skimage) checks.push(relCheck('ssim (vs scikit-image float64)', ssim, numberArray(facts.ssim_skimage, 'ssim_skimage'), TOLERANCES.ssimVsFloat64Rel));
    checks.push(relCheck('l1', l1PerImage(rec, gt).dataSync(), numberArray(facts.l1, 'l1'), TOLERANCES.scalarRel));
    checks.push(relCheck('lsd (eps 1e-3)', lsdPerImage(rec, gt).dataSync(), numberArray(facts['lsd_eps_1e-3'], 'lsd_eps_1e-3'), TOLERANCES.scalarRel));
    checks.push(relCheck('freq_l2', freqL2PerImage(rec, gt).dataSync(), numberArray(facts.freq_l2, 'freq_l2'), TOLERANCES.scalarRel));
    const lambdas = facts.usfm_plus_lambdas ? numberArray(facts.usfm_plus_lambdas, 'usfm_plus_lambdas') : [USFM_PLUS_LAMBDAS.ssim, USFM_PLUS_LAMBDAS.l1, USFM_PLUS_LAMBDAS.lsd];
    const plus = usfmPlusLoss(rec, gt, { ssim: lambdas[0]!, l1: lambdas[1]!, lsd: lambdas[2]! });
    checks.push(relCheck('usfm+ loss', [plus.loss.dataSync()[0]!], numberArray(facts.usfm_plus_loss_mean, 'usfm_plus_loss_mean'), TOLERANCES.scalarRel));
    checks.push(absCheck('spectrum (ortho |FFT2|)', magnitudeSpectrum(gt).dataSync(), tensorOf(io, 'spectrum_gt', 'losses_io').data, TOLERANCES.spectrumAbs));
    const edges = bandEdges(size);
    const wantEdges = numberArray(facts[`band_edges_${size}`] ?? facts.band_edges_224, 'band_edges');
    checks.push({ name: `band edges ${size}`, maxAbsErr: maxAbsDiff(edges, wantEdges), tolerance: 0, ok: maxAbsDiff(edges, wantEdges) === 0, detail: edges.join(' ') });
    const mask = bandStopMask(size, numberArray(facts.stopped_bands, 'stopped_bands'), edges);
    checks.push(absCheck('band-stop mask', mask, tensorOf(io, 'band_mask', 'losses_io').data, 0));
    checks.push(absCheck('band-stop corrupted image', freqCorrupt(gt, mask).dataSync(), tensorOf(io, 'freq_corrupted_gt', 'losses_io').data, TOLERANCES.corruptedAbs));
  });
  const mae = readSafetensors(path.join(dir, 'mae_io.safetensors'));
  const pred = tensorOf(mae, 'pred', 'mae_io');
  const maskT = tensorOf(mae, 'mask', 'mae_io');
  tf.tidy(() => {
    const b = pred.shape[0]!;
    const images = tf.slice(tf.tensor4d(gtT.data, gtT.shape as [number, number, number, number]), [0, 0, 0, 0], [b, -1, -1, -1]);
    const loss = maeLoss(tf.tensor3d(pred.data, pred.shape as [number, number, number]), images, tf.tensor2d(maskT.data, maskT.shape as [number, number]));
    checks.push(relCheck('mae norm-pix loss', loss.dataSync(), numberArray(facts.mae_normpix_loss, 'mae_normpix_loss'), TOLERANCES.scalarRel));
  });
  return checks;
}

/** Runs all checks; a missing or unreadable file becomes a failed check rather than an exception. */
export async function verifyNumerics(dir: string): Promise<NumericsReport> {
  await tf.ready();
  const checks: NumericsCheck[] = [];
  const guard = (name: string, run: () => NumericsCheck[]) => {
    try {
      checks.push(...run());
    } catch (err) {
      checks.push({ name, tolerance: 0, ok: false, detail: err instanceof Error ? err.message : String(err) });
    }
  };
  let facts: Record<string, unknown> | null = null;
  try {
    facts = JSON.parse(fs.readFileSync(path.join(dir, 'facts.json'), 'utf8')) as Record<string, unknown>;
  } catch (err) {
    checks.push({ name: 'facts.json', tolerance: 0, ok: false, detail: err instanceof Error ? err.message : String(err) });
  }
  guard('vit_timm', () => vitChecks(dir, 'timm'));
  guard('vit_beit', () => vitChecks(dir, 'beit'));
  if (facts) {
    const f = facts;
    guard('losses', () => lossChecks(dir, f));
  }
  return { backend: tf.getBackend(), checks, ok: checks.length > 0 && checks.every((c) => c.ok) };
}
