/**
 * A synthetic catalog for query, split and scale tests: N items over sources, patients, organs, class
 * labels and masks, inserted the way the importer does (batched transactions). Pixels are not written:
 * these tests are about the catalog.
 */
import type { Database } from 'better-sqlite3';
import { createDataset, type Dataset } from '../../../main/catalog/datasets';
import { seededRandom } from '../../../main/catalog/splits';

export interface SyntheticOptions {
  items: number;
  framesPerSource?: number;
  itemsPerPatient?: number;
  classes?: string[];
  organs?: string[];
  maskEvery?: number;
  seed?: number;
  name?: string;
}

export function syntheticDataset(db: Database, o: SyntheticOptions): Dataset {
  const ds = createDataset(db, o.name ?? `synthetic ${o.items}`);
  const random = seededRandom(o.seed ?? 1);
  const frames = o.framesPerSource ?? 10;
  const perPatient = o.itemsPerPatient ?? 20;
  const classes = o.classes ?? ['benign', 'malignant', 'normal'];
  const organs = o.organs ?? ['thyroid', 'breast', 'liver', 'kidney', 'heart'];
  const now = new Date().toISOString();
  const insertSource = db.prepare(
    `INSERT INTO sources (dataset_id, path, rel_path, format, content_hash, size, mtime_ms, frames, imported_frames, patient_key, import_id, created_at)
     VALUES (?, ?, ?, 'dicom', ?, 1000, 0, ?, ?, ?, 'job_synthetic', ?)`,
  );
  const insertItem = db.prepare(
    `INSERT INTO items (dataset_id, source_id, frame_index, width, height, channels, bit_depth, signed, pixel_key, patient_key, organ, class_label, has_mask, duplicate_of, near_duplicate_of, created_at)
     VALUES (?, ?, ?, 640, 480, 1, 8, 0, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const batch = 5000;
  for (let start = 0; start < o.items; start += batch) {
    db.transaction(() => {
      let sourceId = 0;
      let previous: number | null = null;
      for (let n = start; n < Math.min(o.items, start + batch); n++) {
        const patient = `p${Math.floor(n / perPatient)}`;
        if (n % frames === 0) {
          const s = Math.floor(n / frames);
          sourceId = Number(insertSource.run(ds.id, `/data/${ds.id}/s${s}.dcm`, `study/s${s}.dcm`, `h${ds.id}${s}`, frames, frames, patient, now).lastInsertRowid);
          previous = null;
        }
        // Labels are per patient (as in real data), organs per source.
        const cls = classes[Math.floor(n / perPatient) % classes.length]!;
        const organ = organs[Math.floor(n / frames) % organs.length]!;
        const near: number | null = previous !== null && random() < 0.1 ? previous : null;
        const id: number = Number(
          insertItem.run(ds.id, sourceId, n % frames, `k${ds.id}-${n}`.padEnd(64, '0'), patient, organ, cls, o.maskEvery && n % o.maskEvery === 0 ? 1 : 0, null, near, now).lastInsertRowid,
        );
        previous = id;
      }
    })();
  }
  return ds;
}
