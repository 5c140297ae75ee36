import type { Migration } from './types';
import { foundation } from './001-foundation';
import { ingestion } from './002-ingestion';
import { modelsAndRuns } from './003-models-runs';

/**
 * Every schema step in order. Append new ones; never edit one that has shipped.
 * 002 is the ingestion schema (datasets, items, annotations, cone masks, splits).
 */
export const migrations: Migration[] = [foundation, ingestion, modelsAndRuns];

export type { Migration } from './types';
