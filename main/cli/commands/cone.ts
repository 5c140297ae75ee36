import path from 'node:path';
import { UsageError, choiceOption, stringOption, type CliCommand } from '../command';
import type { ConeGeometry } from '../../imaging/cone';
import { encodePng } from '../../imaging/png';
import { readCachedRaster } from '../../imaging/pixel-cache';
import { writeFileAtomic } from '../../util/atomic-write';
import { call } from './datasets';

interface ConeRecord {
  origin: string;
  geometry: ConeGeometry;
  method: string;
  confidence: number | null;
  maskKey: string;
}

function describe(g: ConeGeometry): string {
  if (g.shape === 'rectangle') return `rectangle x ${g.x0}..${g.x1}, y ${g.y0}..${g.y1}`;
  const deg = (r: number): string => ((r * 180) / Math.PI).toFixed(1);
  return `sector apex (${g.apexX.toFixed(1)}, ${g.apexY.toFixed(1)}), radius ${g.innerRadius.toFixed(1)}..${g.outerRadius.toFixed(1)}, angle ${deg(g.startAngle)}..${deg(g.endAngle)} deg`;
}

export const coneCommand: CliCommand = {
  name: 'cone',
  summary: 'show, correct or reset an item\'s cone (ultrasound field of view); write its mask',
  usage: [
    'Usage: usfm cone ITEM_ID [--json] [--out MASK.png]',
    '       usfm cone ITEM_ID --set GEOMETRY_JSON [--scope source|item]',
    '       usfm cone ITEM_ID --reset [--scope source|item]',
    '',
    'GEOMETRY_JSON: {"shape":"rectangle","x0":..,"y0":..,"x1":..,"y1":..} or {"shape":"sector","apexX":..,',
    '"apexY":..,"innerRadius":..,"outerRadius":..,"startAngle":..,"endAngle":..} (radians from straight down).',
    'A correction applies to every frame of the item\'s file unless --scope item.',
  ].join('\n'),
  options: { set: { type: 'string' }, reset: { type: 'boolean', default: false }, scope: { type: 'string' }, out: { type: 'string' } },
  allowPositionals: true,
  async run(ctx) {
    const [idArg, ...extra] = ctx.positionals;
    if (!idArg || extra.length) throw new UsageError('usfm cone needs exactly one ITEM_ID');
    if (!/^\d+$/.test(idArg)) throw new UsageError(`"${idArg}" is not an item id`);
    const id = Number(idArg);
    const scope = choiceOption(ctx.values, 'scope', ['source', 'item'] as const, 'source');
    const set = stringOption(ctx.values, 'set');
    if (set && ctx.values.reset) throw new UsageError('--set and --reset exclude each other');
    if (set) {
      let geometry: unknown;
      try {
        geometry = JSON.parse(set);
      } catch {
        throw new UsageError('--set needs a JSON geometry');
      }
      const r = await call<{ updated: number; cone: ConeRecord }>(ctx, 'items.setCone', { id, geometry, scope });
      ctx.result(r, `corrected the cone of ${r.updated} item(s): ${describe(r.cone.geometry)}`);
      return 0;
    }
    if (ctx.values.reset) {
      const r = await call<{ reset: number }>(ctx, 'items.resetCone', { id, scope });
      ctx.result(r, `removed the correction of ${r.reset} item(s); the automatic cone is used`);
      return 0;
    }
    const cones = await call<{ auto: ConeRecord | null; corrected: ConeRecord | null; effective: ConeRecord | null }>(ctx, 'items.cone', { id });
    const out = stringOption(ctx.values, 'out');
    if (out) {
      if (!cones.effective) throw new Error(`item ${id} has no cone`);
      writeFileAtomic(path.resolve(out), encodePng(readCachedRaster(ctx.dataDir, cones.effective.maskKey)));
    }
    const { auto, corrected, effective } = cones;
    const lines = [
      `item ${id}`,
      `automatic: ${auto ? `${describe(auto.geometry)} (${auto.method}, confidence ${auto.confidence ?? '-'})` : 'none'}`,
      `corrected: ${corrected ? describe(corrected.geometry) : 'none'}`,
      `in use:    ${effective ? effective.origin : 'none'}${out ? `; mask written to ${path.resolve(out)}` : ''}`,
    ];
    ctx.result({ id, auto, corrected, effective }, lines.join('\n'));
    return 0;
  },
};
