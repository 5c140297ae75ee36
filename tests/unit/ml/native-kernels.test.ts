/**
 * The native kernels (main/ml/native, usfm_native.c) called directly on plain ArrayBuffers, against
 * double-precision JavaScript references: batched/broadcast/transposed/bias products through OpenBLAS,
 * GELU and LayerNorm forward and backward, and the bounds checks that keep a bad offset from touching
 * memory. `.ci/run` installs OpenBLAS; the loader's refusals run in child processes (it loads once).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadNativeKernels, libraryCandidates, type NativeKernels } from '../../../main/ml/native';
import { repoRoot } from '../../helpers/temp';

function kernels(): NativeKernels {
  const status = loadNativeKernels(1);
  if (!status.ok) throw new Error(`native kernels unavailable: ${status.reason}`);
  return status.kernels;
}

/** A memory of `floats` floats filled with a deterministic pattern, and a view on it. */
function memory(floats: number, seed = 1): { buffer: ArrayBuffer; f: Float32Array } {
  const buffer = new ArrayBuffer(floats * 4);
  const f = new Float32Array(buffer);
  for (let i = 0; i < floats; i++) f[i] = Math.sin(seed * 12.9898 + i * 78.233) * 0.75;
  return { buffer, f };
}

/** op(A)·op(B) (+ bias) in double precision from row-major matrices at float offsets. */
function reference(
  f: Float32Array,
  m: number,
  n: number,
  k: number,
  ta: boolean,
  tb: boolean,
  a: number,
  b: number,
  bias: number | null,
): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = bias === null ? 0 : f[bias + j]!;
      for (let p = 0; p < k; p++)
        s += f[a + (ta ? p * m + i : i * k + p)]! * f[b + (tb ? j * k + p : p * n + j)]!;
      out[i * n + j] = s;
    }
  return out;
}

/** erf in double precision (Simpson's rule on 2/√π·e^{-t²}, 4000 intervals: error < 1e-12). */
function erf(x: number): number {
  const n = 4000;
  const h = x / n;
  let s = 1 + Math.exp(-x * x);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return ((s * h) / 3) * (2 / Math.sqrt(Math.PI));
}

describe('native kernels: loading', () => {
  it('opens an optimised BLAS (OpenBLAS here) and reports it', () => {
    const k = kernels();
    expect(libraryCandidates('linux')).toContain('libopenblas.so.0');
    expect(k.library).toMatch(/openblas/i);
    expect(k.config).toMatch(/OpenBLAS/);
    expect(k.threads).toBe(1);
  });

  const probe = (env: Record<string, string>): { ok: boolean; reason?: string } =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          "import { loadNativeKernels } from './main/ml/native/index.ts'; const s = loadNativeKernels(1); console.log(JSON.stringify({ ok: s.ok, reason: s.ok ? undefined : s.reason }));",
        ],
        { cwd: repoRoot, env: { ...process.env, ...env }, encoding: 'utf8' },
      ).trim(),
    ) as { ok: boolean; reason?: string };

  it('says why when disabled or when the named library cannot be used', () => {
    expect(probe({ USFM_NATIVE_BLAS: 'off' })).toEqual({
      ok: false,
      reason: 'disabled by USFM_NATIVE_BLAS=off',
    });
    const missing = probe({ USFM_BLAS_LIBRARY: '/nonexistent/libopenblas.so' });
    expect(missing.ok).toBe(false);
    expect(missing.reason).toMatch(/USFM_BLAS_LIBRARY: cannot open \/nonexistent\/libopenblas\.so/);
    const noCblas = probe({ USFM_BLAS_LIBRARY: 'libz.so.1' }); // a real library without cblas_sgemm
    expect(noCblas.reason).toMatch(/no cblas_sgemm/);
  });
});

describe('native kernels: matrix products on a memory', () => {
  const cases = [
    { batch: 1, m: 7, n: 5, k: 9, ta: false, tb: false, bias: false, broadcastB: false },
    { batch: 1, m: 7, n: 5, k: 9, ta: true, tb: false, bias: true, broadcastB: false },
    { batch: 3, m: 4, n: 6, k: 5, ta: false, tb: true, bias: false, broadcastB: false },
    { batch: 3, m: 4, n: 6, k: 5, ta: true, tb: true, bias: true, broadcastB: true },
    { batch: 2, m: 33, n: 65, k: 70, ta: false, tb: true, bias: false, broadcastB: true },
  ];
  for (const c of cases) {
    it(`batch ${c.batch}, [${c.m}x${c.k}]${c.ta ? 'ᵀ' : ''}·[${c.k}x${c.n}]${c.tb ? 'ᵀ' : ''}${c.bias ? ' + bias' : ''}${c.broadcastB ? ', B shared' : ''}`, () => {
      const aSize = c.m * c.k;
      const bSize = c.k * c.n;
      const a = 3; // deliberately unaligned to any matrix size
      const b = a + c.batch * aSize + 1;
      const bias = b + (c.broadcastB ? 1 : c.batch) * bSize + 2;
      const out = bias + c.n + 5;
      const { buffer, f } = memory(out + c.batch * c.m * c.n + 4);
      const guard = f[out + c.batch * c.m * c.n]!;
      kernels().sgemm(buffer, {
        batch: c.batch,
        m: c.m,
        n: c.n,
        k: c.k,
        transposeA: c.ta,
        transposeB: c.tb,
        aOffset: a * 4,
        aStride: aSize,
        bOffset: b * 4,
        bStride: c.broadcastB ? 0 : bSize,
        cOffset: out * 4,
        cStride: c.m * c.n,
        biasOffset: c.bias ? bias * 4 : -1,
      });
      let worst = 0;
      for (let i = 0; i < c.batch; i++) {
        const expected = reference(
          f,
          c.m,
          c.n,
          c.k,
          c.ta,
          c.tb,
          a + i * aSize,
          b + (c.broadcastB ? 0 : i * bSize),
          c.bias ? bias : null,
        );
        expected.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - f[out + i * c.m * c.n + j]!))));
      }
      expect(worst).toBeLessThan(1e-5);
      expect(f[out + c.batch * c.m * c.n]).toBe(guard); // nothing written past the output
    });
  }

  it('refuses operands outside the memory, unaligned offsets and bad sizes, writing nothing', () => {
    const { buffer, f } = memory(64);
    const before = Float32Array.from(f);
    const ok = {
      batch: 1,
      m: 2,
      n: 2,
      k: 2,
      transposeA: false,
      transposeB: false,
      aOffset: 0,
      aStride: 4,
      bOffset: 16,
      bStride: 4,
      cOffset: 32,
      cStride: 4,
      biasOffset: -1,
    };
    const k = kernels();
    expect(() => k.sgemm(buffer, { ...ok, aOffset: 256 - 8 })).toThrow(/operand A lies outside the memory/);
    expect(() => k.sgemm(buffer, { ...ok, batch: 20, bStride: 4 })).toThrow(/lies outside the memory/);
    expect(() => k.sgemm(buffer, { ...ok, cOffset: 250 })).toThrow(/output lies outside/);
    expect(() => k.sgemm(buffer, { ...ok, bOffset: 18 })).toThrow(/operand B lies outside/); // not float-aligned
    expect(() => k.sgemm(buffer, { ...ok, biasOffset: 255 })).toThrow(/bias lies outside/);
    expect(() => k.sgemm(buffer, { ...ok, m: 0 })).toThrow(/sizes must be positive/);
    expect(() => k.sgemm(buffer, { ...ok, k: 2.5 })).toThrow(/must be an integer/);
    expect(() => k.sgemm(buffer, { ...ok, batch: 2, aStride: 4, bStride: 4, cStride: 2 })).toThrow(
      /overlaps itself/,
    );
    expect(Array.from(f)).toEqual(Array.from(before));
    k.sgemm(buffer, ok); // the same memory still works
    expect(f[8]).toBeCloseTo(before[0]! * before[4]! + before[1]! * before[6]!, 6); // C at byte 32 = float 8
  });
});

describe('native kernels: GELU and LayerNorm', () => {
  it('GELU forward and backward match the erf definition over [-10, 10]', () => {
    const n = 2001;
    const { buffer, f } = memory(4 * n + 8);
    for (let i = 0; i < n; i++) f[i] = -10 + (20 * i) / (n - 1);
    for (let i = 0; i < n; i++) f[2 * n + i] = Math.cos(i); // dy
    const k = kernels();
    k.geluForward(buffer, 0, n * 4, 3 * n * 4, n); // x, y → [n, 2n), cdf → [3n, 4n)
    const dyCopy = f.slice(2 * n, 3 * n);
    k.geluBackward(buffer, 0, 3 * n * 4, 2 * n * 4, 2 * n * 4, n); // dx written over dy (same size)
    let worstY = 0;
    let worstDx = 0;
    for (let i = 0; i < n; i++) {
      const x = f[i]!;
      const cdf = 0.5 * (1 + erf(x / Math.SQRT2));
      worstY = Math.max(worstY, Math.abs(f[n + i]! - x * cdf));
      const pdf = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
      worstDx = Math.max(worstDx, Math.abs(f[2 * n + i]! - dyCopy[i]! * (cdf + x * pdf)));
    }
    expect(worstY).toBeLessThan(2e-6);
    expect(worstDx).toBeLessThan(2e-6);
  });

  it('LayerNorm forward and backward match a double-precision reference', () => {
    const m = 5;
    const d = 37;
    const { buffer, f } = memory(8 * m * d + 4 * d + 2 * m + 16, 3);
    const x = 0;
    const w = m * d;
    const b = w + d;
    const y = b + d;
    const xhat = y + m * d;
    const rstd = xhat + m * d;
    const g = rstd + m;
    const dx = g + m * d;
    const dw = dx + m * d;
    const db = dw + d;
    for (let i = 0; i < m * d; i++) f[x + i] = f[x + i]! * 3 + (i % d === 0 ? 40 : 2); // offsets and an outlier per row
    const k = kernels();
    k.layerNormForward(buffer, x * 4, w * 4, b * 4, y * 4, xhat * 4, rstd * 4, m, d, 1e-6);
    k.layerNormBackward(buffer, g * 4, xhat * 4, rstd * 4, w * 4, dx * 4, dw * 4, db * 4, m, d);
    let worst = 0;
    const dwRef = new Float64Array(d);
    const dbRef = new Float64Array(d);
    for (let r = 0; r < m; r++) {
      const row = Array.from({ length: d }, (_, j) => f[x + r * d + j]!);
      const mean = row.reduce((s, v) => s + v, 0) / d;
      const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / d;
      const rs = 1 / Math.sqrt(variance + 1e-6);
      const hat = row.map((v) => (v - mean) * rs);
      const gw = hat.map((_, j) => f[g + r * d + j]! * f[w + j]!);
      const meanGw = gw.reduce((s, v) => s + v, 0) / d;
      const meanGwh = gw.reduce((s, v, j) => s + v * hat[j]!, 0) / d;
      worst = Math.max(worst, Math.abs(f[rstd + r]! - rs) / rs);
      for (let j = 0; j < d; j++) {
        worst = Math.max(worst, Math.abs(f[y + r * d + j]! - (hat[j]! * f[w + j]! + f[b + j]!)));
        worst = Math.max(worst, Math.abs(f[dx + r * d + j]! - rs * (gw[j]! - meanGw - hat[j]! * meanGwh)));
        dwRef[j]! += f[g + r * d + j]! * hat[j]!;
        dbRef[j]! += f[g + r * d + j]!;
      }
    }
    for (let j = 0; j < d; j++)
      worst = Math.max(worst, Math.abs(f[dw + j]! - dwRef[j]!), Math.abs(f[db + j]! - dbRef[j]!));
    expect(worst).toBeLessThan(1e-5);
  });

  it('column sums (sums over leading axes) equal double-precision sums', () => {
    const m = 1000;
    const n = 7;
    const { buffer, f } = memory(m * n + n + 1, 5);
    for (let i = 0; i < m * n; i++) f[i] = f[i]! + 1000; // large common offset: float accumulation would drift
    kernels().columnSum(buffer, 0, m * n * 4, m, n);
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let r = 0; r < m; r++) s += f[r * n + j]!;
      expect(Math.abs(f[m * n + j]! - s) / Math.abs(s)).toBeLessThan(1e-7);
    }
  });

  it('refuses element-wise work outside the memory', () => {
    const { buffer, f } = memory(32);
    const before = Float32Array.from(f);
    const k = kernels();
    expect(() => k.geluForward(buffer, 0, 64, 100, 8)).toThrow(
      /geluForward: a tensor lies outside the memory/,
    );
    expect(() => k.geluBackward(buffer, 0, 0, 0, 2, 8)).toThrow(/geluBackward: a tensor lies outside/);
    expect(() => k.layerNormForward(buffer, 0, 0, 0, 0, 0, 0, 4, 16, 1e-6)).toThrow(
      /layerNormForward: a tensor lies outside/,
    );
    expect(() => k.layerNormForward(buffer, 0, 0, 0, 0, 0, 0, 1, 4, 0)).toThrow(/eps must be a number/);
    expect(() => k.layerNormBackward(buffer, 0, 0, 0, 0, 0, 0, 120, 2, 4)).toThrow(
      /layerNormBackward: a tensor lies outside/,
    );
    expect(() => k.columnSum(buffer, 0, 124, 4, 2)).toThrow(/columnSum: a tensor lies outside/);
    const constants = [0.9, 0.1, 0.95, 0.05, 1e-3, 1, 1e-8, 1];
    expect(() => k.adamw(buffer, 0, 0, 0, 0, 64, 96, 120, 8, ...constants)).toThrow(
      /adamw: a tensor lies outside/,
    );
    expect(() => k.adamw(buffer, 0, 0, 0, 0, 32, 64, 96, 8, ...constants.slice(0, 7), NaN)).toThrow(
      /adamw: every constant must be a finite number/,
    );
    expect(Array.from(f)).toEqual(Array.from(before));
  });
});
