import { intOption, stringOption, type CliCommand } from '../command';
import { startServer } from '../../server/http-server';
import { rendererDistDir } from '../../config/paths';
import { startupTasks } from '../../app/startup';

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'browser mode: serve the app on http://127.0.0.1 with a per-launch token (for headless GPU servers)',
  usage: [
    'Usage: usfm serve [--port N] [--host ADDRESS] [--data-dir DIR] [--json]',
    '',
    'Binds 127.0.0.1 by default. Binding another address (--host 0.0.0.0) exposes the app to the network;',
    'the token in the printed URL is still required for every connection.',
  ].join('\n'),
  options: { port: { type: 'string' }, host: { type: 'string' } },
  async run(ctx) {
    const app = ctx.app('browser');
    const host = stringOption(ctx.values, 'host') ?? '127.0.0.1';
    const server = await startServer({ ctx: app, staticDir: rendererDistDir(), host, port: intOption(ctx.values, 'port', 0) });
    if (ctx.json) process.stdout.write(`${JSON.stringify({ type: 'listening', url: server.url, port: server.port, host })}\n`);
    else {
      process.stdout.write(`USFM Workbench (browser mode) is running.\nOpen: ${server.url}\n`);
      if (host !== '127.0.0.1' && host !== 'localhost') process.stdout.write(`warning: bound to ${host}: reachable from the network (token required)\n`);
    }
    void startupTasks(app).catch((err: unknown) => process.stderr.write(`startup task failed: ${(err as Error).message}\n`));
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    process.stdout.write('shutting down: asking jobs to checkpoint\n');
    await server.close();
    return 0;
  },
};
