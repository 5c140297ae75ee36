import type { CliCommand } from '../command';
import { infoCommand } from './info';
import { jobsCommand } from './jobs';
import { serveCommand } from './serve';
import { selftestCommand } from './selftest';
import { weightsCommand } from './weights';
import { pretrainCommand } from './pretrain';
import { datasetCommand } from './dataset-export';
import { verifyNumericsCommand } from './verify-numerics';
import { importCommand } from './import';
import { itemsCommand } from './items';
import { exportImageCommand } from './export-image';
import { coneCommand } from './cone';
import { splitCommand } from './split';
import { datasetsCommand } from './datasets';
import { labelsCommand } from './labels';

/** Every `usfm` command. Add a line per command. */
export const commands: CliCommand[] = [infoCommand, jobsCommand, serveCommand, selftestCommand, weightsCommand, pretrainCommand, datasetCommand, verifyNumericsCommand, importCommand, itemsCommand, exportImageCommand, coneCommand, splitCommand, datasetsCommand, labelsCommand];
