import path from 'node:path';
import { UsageError, stringOption, type CliCommand } from '../command';
import { getItem } from '../../catalog/items';
import { getCones } from '../../catalog/cones';
import { blankOutsideCone, rasterizeCone } from '../../imaging/cone';
import { encodePng } from '../../imaging/png';
import { readCachedRaster } from '../../imaging/pixel-cache';
import { writeFileAtomic } from '../../util/atomic-write';

export const exportImageCommand: CliCommand = {
  name: 'export-image',
  summary: 'write an item\'s decoded frame to a PNG exactly as stored (grey or RGB, 8 or 16 bit)',
  usage: [
    'Usage: usfm export-image ITEM_ID --out FILE.png [--blank-outside-cone] [--json]',
    '',
    'The PNG holds the cached pixels unchanged (signed 16-bit data is offset by 32768, PNG having no sign).',
    '--blank-outside-cone sets every pixel outside the item\'s cone to 0 (burned-in text and markers).',
  ].join('\n'),
  options: { out: { type: 'string' }, 'blank-outside-cone': { type: 'boolean', default: false } },
  allowPositionals: true,
  async run(ctx) {
    const [idArg, ...extra] = ctx.positionals;
    if (!idArg || extra.length) throw new UsageError('usfm export-image needs exactly one ITEM_ID');
    if (!/^\d+$/.test(idArg)) throw new UsageError(`"${idArg}" is not an item id`);
    const out = path.resolve(stringOption(ctx.values, 'out', true));
    if (path.extname(out).toLowerCase() !== '.png') throw new UsageError('--out must name a .png file');
    const app = ctx.app();
    const item = getItem(app.catalog.db, Number(idArg));
    if (!item) throw new Error(`no item ${idArg}`);
    let raster = readCachedRaster(app.dataDir, item.pixelKey);
    const blank = Boolean(ctx.values['blank-outside-cone']);
    if (blank) {
      const cone = getCones(app.catalog.db, item.id).effective;
      if (!cone) throw new Error(`item ${item.id} has no cone`);
      raster = blankOutsideCone(raster, rasterizeCone(cone.geometry, raster.width, raster.height));
    }
    const png = encodePng(raster);
    writeFileAtomic(out, png);
    const info = { id: item.id, out, width: raster.width, height: raster.height, channels: raster.channels, bitDepth: raster.bitDepth, signed: raster.signed, blankedOutsideCone: blank, bytes: png.length };
    ctx.result(info, `wrote ${out}: ${raster.width}x${raster.height}, ${raster.channels === 1 ? 'grey' : 'RGB'}, ${raster.bitDepth}-bit${blank ? ', blanked outside the cone' : ''}`);
    return 0;
  },
};
