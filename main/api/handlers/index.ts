import type { HandlerMap } from './types';
import { systemHandlers } from './system';
import { jobHandlers } from './jobs';

/** Every contract call's implementation. TypeScript checks that none is missing. */
export const handlers: HandlerMap = {
  ...systemHandlers,
  ...jobHandlers,
};

export type { Handler, HandlerSet, HandlerMap } from './types';
