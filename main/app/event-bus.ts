import { EventEmitter } from 'node:events';
import type { EventName, EventPayload } from '../api/contract';

type Listener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

/** Fan-out of contract events (job progress, job state, log lines) to every connected renderer. */
export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(100);
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    this.emitter.emit('event', event, payload);
  }

  /** Subscribe to every event; returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
