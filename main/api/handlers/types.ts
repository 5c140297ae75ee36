import type { AppContext } from '../../app/context';
import type { CallName, CallResult, ParsedCallInput } from '../contract';

export type Handler<N extends CallName> = (input: ParsedCallInput<N>, ctx: AppContext) => CallResult<N> | Promise<CallResult<N>>;

/** Handlers for a subset of the contract (one domain). */
export type HandlerSet<Names extends CallName> = { [N in Names]: Handler<N> };

export type HandlerMap = HandlerSet<CallName>;
