import type { HandlerMap } from './types';
import { systemHandlers } from './system';
import { jobHandlers } from './jobs';
import { weightsHandlers } from './weights';
import { catalogHandlers } from './catalog';
import { pretrainHandlers } from './pretrain';

/** Every contract call's implementation. TypeScript checks that none is missing. */
export const handlers: HandlerMap = {
  ...systemHandlers,
  ...jobHandlers,
  ...weightsHandlers,
  ...catalogHandlers,
  ...pretrainHandlers,
};

export type { Handler, HandlerSet, HandlerMap } from './types';
