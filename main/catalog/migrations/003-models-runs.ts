import type { Migration } from './types';

/** Model weights known to the app (imported, pretrained, fine-tuned) and the training runs behind them. */
export const modelsAndRuns: Migration = {
  version: 3,
  name: 'models and training runs',
  up: `
    CREATE TABLE runs (
      id            TEXT PRIMARY KEY,
      job_id        TEXT,                 -- the job that last ran it
      kind          TEXT NOT NULL CHECK (kind IN ('pretrain','finetune','linear-probe','evaluate')),
      recipe        TEXT,                 -- mae | usfm | usfm-plus | segmentation | classification ...
      config        TEXT NOT NULL,        -- JSON: the full configuration
      dataset_id    TEXT,
      manifest_hash TEXT,                 -- hash of the exact item list and split used
      seed          INTEGER,
      backend       TEXT,
      versions      TEXT,                 -- JSON: app, tfjs, node versions
      state         TEXT NOT NULL,        -- running | stopped | finished | failed
      step          INTEGER NOT NULL DEFAULT 0,
      total_steps   INTEGER,
      best_loss     REAL,
      dir           TEXT NOT NULL,        -- folder under the data dir, relative
      metrics       TEXT,                 -- JSON: last / final metrics
      created_at    TEXT NOT NULL,
      updated_at    TEXT NOT NULL
    );
    CREATE TABLE models (
      id          TEXT PRIMARY KEY,
      name        TEXT NOT NULL,
      source      TEXT NOT NULL CHECK (source IN ('imported','pretrained','finetuned')),
      layout      TEXT NOT NULL CHECK (layout IN ('timm','beit')),  -- parameter naming, as PyTorch names it
      task        TEXT NOT NULL DEFAULT 'backbone',                  -- backbone | pretrain | segmentation | classification
      config      TEXT NOT NULL,        -- JSON: ViT configuration (size, image, patch, dims, heads, ...)
      file        TEXT NOT NULL,        -- safetensors file, relative to the data dir
      run_id      TEXT REFERENCES runs(id) ON DELETE SET NULL,
      metadata    TEXT,                 -- JSON: recipe, dataset manifest hash, metrics, provenance
      created_at  TEXT NOT NULL
    );
    CREATE INDEX models_created ON models(created_at DESC);
  `,
};
