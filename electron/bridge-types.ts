/**
 * Types of `window.usfm` for the renderer, derived from the contract (type-only: nothing of this is
 * bundled). Usage: `declare global { interface Window { usfm?: UsfmBridge } }`.
 */
import type { ApiErrorShape } from '../main/api/errors';
import type { CallInput, CallName, CallResult, EventName, EventPayload } from '../main/api/contract';

export type UsfmOutcome<T> = { ok: true; result: T } | { ok: false; error: ApiErrorShape };

/** A union of [event, payload] pairs: `(...[event, payload]) => { if (event === 'job.progress') ... }` narrows. */
export type UsfmEventArgs = { [E in EventName]: [event: E, payload: EventPayload<E>] }[EventName];
export type UsfmEventListener = (...args: UsfmEventArgs) => void;

export type UsfmBridge = {
  call<N extends CallName>(name: N, input?: CallInput<N>): Promise<UsfmOutcome<CallResult<N>>>;
  onEvent(listener: UsfmEventListener): () => void;
} & { readonly [N in CallName]: (input?: CallInput<N>) => Promise<UsfmOutcome<CallResult<N>>> };
