import { calls, type CallName } from './contract';
import { handlers as defaultHandlers, type HandlerMap } from './handlers';
import { ApiError, toApiError, type ApiErrorShape } from './errors';
import type { AppContext } from '../app/context';

export type CallOutcome = { ok: true; result: unknown } | { ok: false; error: ApiErrorShape };

const MAX_ISSUES = 20;

/**
 * The single entry point for renderer calls, whatever the transport (Electron IPC or WebSocket):
 * checks the call exists, validates the payload against its schema, runs the handler and returns
 * a result or a typed error. It never throws.
 */
export async function dispatch(ctx: AppContext, name: unknown, payload: unknown, handlers: HandlerMap = defaultHandlers): Promise<CallOutcome> {
  if (typeof name !== 'string' || !Object.hasOwn(calls, name)) {
    return { ok: false, error: { code: 'UNKNOWN_CALL', message: `unknown call ${JSON.stringify(String(name)).slice(0, 80)}` } };
  }
  const call = calls[name as CallName];
  const parsed = call.input.safeParse(payload ?? {});
  if (!parsed.success) {
    return {
      ok: false,
      error: {
        code: 'VALIDATION',
        message: `invalid input for ${name}`,
        details: parsed.error.issues.slice(0, MAX_ISSUES).map((i) => ({ path: i.path.join('.'), message: i.message })),
      },
    };
  }
  try {
    const handler = handlers[name as CallName] as (input: unknown, ctx: AppContext) => unknown;
    const result = await handler(parsed.data, ctx);
    return { ok: true, result };
  } catch (err) {
    if (!(err instanceof ApiError)) {
      process.stderr.write(`[usfm] ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    return { ok: false, error: toApiError(err) };
  }
}
