import type { Migration } from './types';

/** The 15 organs the taxonomy starts with (editable by the user). */
export const DEFAULT_ORGANS: readonly { id: string; name: string }[] = [
  { id: 'thyroid', name: 'Thyroid' },
  { id: 'breast', name: 'Breast' },
  { id: 'liver', name: 'Liver' },
  { id: 'kidney', name: 'Kidney' },
  { id: 'heart', name: 'Heart' },
  { id: 'fetal-head', name: 'Fetal head' },
  { id: 'fetal-abdomen', name: 'Fetal abdomen' },
  { id: 'gallbladder', name: 'Gallbladder' },
  { id: 'spleen', name: 'Spleen' },
  { id: 'pancreas', name: 'Pancreas' },
  { id: 'bladder', name: 'Bladder' },
  { id: 'uterus-ovary', name: 'Uterus and ovaries' },
  { id: 'carotid', name: 'Carotid artery' },
  { id: 'lung', name: 'Lung' },
  { id: 'lymph-node', name: 'Lymph node' },
];

/**
 * Ingestion: datasets, source files, items (frames), organ taxonomy, annotations (versioned masks), cone
 * masks (automatic and corrected), splits, imports and their per-file errors. Item queries are paged by
 * id with filters on organ, class label, split and flags, so each filter has an index led by dataset_id.
 */
export const ingestion: Migration = {
  version: 2,
  name: 'ingestion: datasets, sources, items, labels, annotations, cones, splits, import errors',
  up(db) {
    db.exec(`
      CREATE TABLE datasets (
        id          TEXT PRIMARY KEY,                 -- ds_<hex>
        name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
        description TEXT,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );
      CREATE TABLE organs (
        id          TEXT PRIMARY KEY,                 -- stable slug; renaming changes name only
        name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
        position    INTEGER NOT NULL,
        created_at  TEXT NOT NULL
      );
      CREATE TABLE imports (
        id          TEXT PRIMARY KEY,                 -- the import job's id
        dataset_id  TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        roots       TEXT NOT NULL,                    -- JSON: the paths given
        params      TEXT NOT NULL,                    -- JSON: the import job's parameters (to resume it)
        state       TEXT NOT NULL CHECK (state IN ('running','done','stopped','failed')),
        summary     TEXT,                             -- JSON: counts
        started_at  TEXT NOT NULL,
        ended_at    TEXT
      );
      CREATE INDEX imports_dataset ON imports(dataset_id, started_at DESC);
      CREATE TABLE sources (
        id              INTEGER PRIMARY KEY,
        dataset_id      TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        path            TEXT NOT NULL,                -- absolute, local only: never sent to the renderer
        rel_path        TEXT NOT NULL,                -- relative to the import root: what is shown
        format          TEXT NOT NULL CHECK (format IN ('dicom','png','jpeg')),
        content_hash    TEXT NOT NULL,                -- SHA-256 of the file
        size            INTEGER NOT NULL,
        mtime_ms        INTEGER NOT NULL,
        frames          INTEGER NOT NULL,             -- frames in the file
        imported_frames INTEGER NOT NULL,             -- frames that became items (stride, duplicates)
        duplicate_of    INTEGER REFERENCES sources(id) ON DELETE SET NULL,
        patient_key     TEXT,                         -- pseudonymous
        study_uid       TEXT,                         -- remapped
        series_uid      TEXT,                         -- remapped
        sop_uid         TEXT,                         -- remapped
        meta            TEXT,                         -- JSON: de-identified attributes, technical info
        import_id       TEXT,
        created_at      TEXT NOT NULL,
        UNIQUE (dataset_id, path)
      );
      CREATE INDEX sources_hash ON sources(dataset_id, content_hash);
      CREATE TABLE items (
        id                INTEGER PRIMARY KEY,
        dataset_id        TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        source_id         INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        frame_index       INTEGER NOT NULL,
        width             INTEGER NOT NULL,
        height            INTEGER NOT NULL,
        channels          INTEGER NOT NULL CHECK (channels IN (1, 3)),
        bit_depth         INTEGER NOT NULL CHECK (bit_depth IN (8, 16)),
        signed            INTEGER NOT NULL DEFAULT 0,
        pixel_key         TEXT NOT NULL,              -- pixel cache key (SHA-256 of the decoded frame)
        patient_key       TEXT NOT NULL,              -- pseudonymous; splits group by it
        organ             TEXT REFERENCES organs(id) ON DELETE SET NULL ON UPDATE CASCADE,
        class_label       TEXT,
        folder_split      TEXT,                       -- split named by the folder layout (TN3K), if any
        has_mask          INTEGER NOT NULL DEFAULT 0,
        split_part        TEXT CHECK (split_part IN ('train','val','test')),  -- part in the current split
        duplicate_of      INTEGER REFERENCES items(id) ON DELETE SET NULL,  -- identical pixels
        near_duplicate_of INTEGER REFERENCES items(id) ON DELETE SET NULL,  -- almost the previous frame
        created_at        TEXT NOT NULL,
        UNIQUE (source_id, frame_index)
      );
      CREATE INDEX items_dataset ON items(dataset_id, id);
      CREATE INDEX items_organ ON items(dataset_id, organ, id);
      CREATE INDEX items_class ON items(dataset_id, class_label, id);
      CREATE INDEX items_mask ON items(dataset_id, has_mask, id);
      CREATE INDEX items_split ON items(dataset_id, split_part, id);
      CREATE INDEX items_pixel ON items(dataset_id, pixel_key);
      CREATE INDEX items_patient ON items(dataset_id, patient_key);
      CREATE INDEX items_dup ON items(duplicate_of) WHERE duplicate_of IS NOT NULL;
      CREATE INDEX items_near_dup ON items(near_duplicate_of) WHERE near_duplicate_of IS NOT NULL;
      CREATE TABLE annotations (
        id          INTEGER PRIMARY KEY,
        item_id     INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        kind        TEXT NOT NULL DEFAULT 'mask' CHECK (kind IN ('mask')),
        origin      TEXT NOT NULL CHECK (origin IN ('ground_truth','predicted','corrected')),
        version     INTEGER NOT NULL,
        label       TEXT,
        mask_key    TEXT NOT NULL,                    -- pixel cache key of a 0/1 8-bit mask
        model_id    TEXT,
        created_at  TEXT NOT NULL,
        UNIQUE (item_id, version)
      );
      CREATE TABLE cones (
        item_id     INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        origin      TEXT NOT NULL CHECK (origin IN ('auto','corrected')),
        geometry    TEXT NOT NULL,                    -- JSON ConeGeometry
        method      TEXT NOT NULL,
        confidence  REAL,
        mask_key    TEXT NOT NULL,                    -- pixel cache key of the rasterised 0/1 mask
        created_at  TEXT NOT NULL,
        PRIMARY KEY (item_id, origin)
      ) WITHOUT ROWID;
      CREATE TABLE splits (
        id             INTEGER PRIMARY KEY,
        dataset_id     TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        seed           INTEGER NOT NULL,
        test_fraction  REAL NOT NULL,
        val_fraction   REAL NOT NULL,
        stratify       TEXT,                          -- class_label | organ | NULL
        counts         TEXT NOT NULL,                 -- JSON: items, patients per part
        created_at     TEXT NOT NULL
      );
      CREATE INDEX splits_dataset ON splits(dataset_id, id DESC);
      CREATE TABLE split_items (
        split_id  INTEGER NOT NULL REFERENCES splits(id) ON DELETE CASCADE,
        item_id   INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        part      TEXT NOT NULL CHECK (part IN ('train','val','test')),
        PRIMARY KEY (split_id, item_id)
      ) WITHOUT ROWID;
      CREATE INDEX split_items_part ON split_items(split_id, part, item_id);
      CREATE INDEX split_items_item ON split_items(item_id);
      CREATE TABLE import_errors (
        id          INTEGER PRIMARY KEY,
        dataset_id  TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        import_id   TEXT,
        path        TEXT NOT NULL,                    -- absolute, local only
        rel_path    TEXT NOT NULL,
        code        TEXT NOT NULL,
        message     TEXT NOT NULL,                    -- names the file and the cause; no patient data
        created_at  TEXT NOT NULL,
        UNIQUE (dataset_id, path)
      );
      CREATE INDEX import_errors_import ON import_errors(import_id);
    `);
    const now = new Date().toISOString();
    const insert = db.prepare(`INSERT INTO organs (id, name, position, created_at) VALUES (?, ?, ?, ?)`);
    DEFAULT_ORGANS.forEach((o, i) => insert.run(o.id, o.name, i, now));
  },
};
