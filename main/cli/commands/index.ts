import type { CliCommand } from '../command';
import { infoCommand } from './info';
import { jobsCommand } from './jobs';
import { serveCommand } from './serve';

/** Every `usfm` command. Add a line per command. */
export const commands: CliCommand[] = [infoCommand, jobsCommand, serveCommand];
