/**
 * The typed IPC contract: every call the renderer may make and every event stream it may receive.
 * Domain files declare their part; this module is the single list the transports are generated from.
 * To add a capability: declare calls in a domain file, spread them here, implement them in ../handlers.
 */
import type { z } from 'zod';
import { systemCalls } from './system';
import { jobCalls, jobEvents } from './jobs';
import { weightsCalls } from './weights';
import { catalogCalls } from './catalog';
import { pretrainCalls } from './pretrain';

export const calls = {
  ...systemCalls,
  ...jobCalls,
  ...weightsCalls,
  ...catalogCalls,
  ...pretrainCalls,
} as const;

export const events = {
  ...jobEvents,
} as const;

export type Calls = typeof calls;
export type CallName = keyof Calls & string;
export type CallInput<N extends CallName> = z.input<Calls[N]['input']>;
export type ParsedCallInput<N extends CallName> = z.output<Calls[N]['input']>;
export type CallResult<N extends CallName> = z.output<Calls[N]['result']>;

export type Events = typeof events;
export type EventName = keyof Events & string;
export type EventPayload<E extends EventName> = z.output<Events[E]>;

export const callNames = Object.keys(calls) as CallName[];
export const eventNames = Object.keys(events) as EventName[];

export * from './system';
export * from './jobs';
export * from './catalog';
export * from './weights';
export * from './pretrain';
