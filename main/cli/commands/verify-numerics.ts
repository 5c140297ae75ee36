import path from 'node:path';
import { UsageError, choiceOption, type CliCommand } from '../command';
import { BACKEND_ORDER } from '../../ml/backend';
import { prepareComputeBackend } from '../../ml/train/backend-setup';
import { verifyNumerics, type NumericsCheck } from '../../ml/numerics/verify';

function checkLine(c: NumericsCheck): string {
  const err = c.maxAbsErr !== undefined ? `max abs err ${c.maxAbsErr.toExponential(2)}` : c.relErr !== undefined ? `rel err ${c.relErr.toExponential(2)}` : '';
  const tol = `tolerance ${c.tolerance === 0 ? '0 (exact)' : c.tolerance.toExponential(0)}`;
  return `${c.ok ? '✓' : '✗'} ${c.name.padEnd(34)} ${[err, tol, c.detail].filter(Boolean).join(', ')}`;
}

/** Compares this install's ViT forward passes and losses with a PyTorch fixture folder (shared/reference format). */
export const verifyNumericsCommand: CliCommand = {
  name: 'verify-numerics',
  summary: 'check the ML backend against PyTorch reference fixtures (ViT forward, SSIM, spectra, losses)',
  usage: `Usage: usfm verify-numerics DIR [--backend auto|${BACKEND_ORDER.join('|')}] [--json]\n  DIR holds facts.json and the *.safetensors fixtures written by make_reference.py`,
  options: { backend: { type: 'string' } },
  allowPositionals: true,
  async run(ctx) {
    const dir = ctx.positionals[0];
    if (!dir || ctx.positionals.length > 1) throw new UsageError('verify-numerics needs exactly one fixture folder');
    const backend = choiceOption(ctx.values, 'backend', ['auto', ...BACKEND_ORDER] as const, 'auto');
    // Prepared as jobs prepare it, so the check covers the kernels training uses (e.g. the native engine).
    const selected = await prepareComputeBackend({ backend });
    const report = { ...(await verifyNumerics(path.resolve(dir))), backend: selected };
    const failed = report.checks.filter((c) => !c.ok).length;
    const lines = [
      `backend: ${selected.active}${selected.simd ? ' (SIMD)' : ''}${selected.matmul ? `, products: ${selected.matmul.engine}${selected.matmul.library ? ` (${selected.matmul.library})` : ''}` : ''}`,
      ...report.checks.map(checkLine),
      report.ok ? `all ${report.checks.length} checks passed` : `${failed} of ${report.checks.length} checks FAILED`,
    ];
    ctx.result(report, lines.join('\n'));
    return report.ok ? 0 : 1;
  },
};
