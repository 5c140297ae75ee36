/**
 * The one `api` object the views use, whatever the transport. Calls are typed by the contract:
 * `api.call('jobs.list', { limit: 20 })` resolves with the result or throws an `ApiCallError`.
 */
import type { CallInput, CallName, CallResult, EventName, EventPayload } from '@contract';
import type { ApiErrorShape } from '../../../main/api/errors';
import { electronTransport, takeToken, websocketTransport, type Transport } from './transport';

export class ApiCallError extends Error {
  constructor(
    readonly call: string,
    readonly error: ApiErrorShape,
  ) {
    super(error.message);
    this.name = 'ApiCallError';
  }
  get code(): string {
    return this.error.code;
  }
}

export interface Api {
  readonly transport: Transport['kind'];
  call<N extends CallName>(name: N, input: CallInput<N>): Promise<CallResult<N>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  onStatus(listener: (status: 'connecting' | 'open' | 'closed') => void): () => void;
}

export function createApi(transport: Transport): Api {
  return {
    transport: transport.kind,
    async call(name, input) {
      const outcome = await transport.call(name, input);
      if (!outcome.ok) throw new ApiCallError(name, outcome.error);
      return outcome.result as CallResult<typeof name>;
    },
    on(event, listener) {
      return transport.onEvent((name, payload) => {
        if (name === event) listener(payload as EventPayload<typeof event>);
      });
    },
    onStatus: (listener) => transport.onStatus(listener),
  };
}

function detectTransport(): Transport {
  if (window.usfm) return electronTransport(window.usfm);
  const token = takeToken();
  if (!token) throw new Error('No access token: open the URL printed by `usfm serve` (it ends in #token=…).');
  return websocketTransport(token);
}

let instance: Api | null = null;

export function api(): Api {
  instance ??= createApi(detectTransport());
  return instance;
}
