import type { z } from 'zod';

/** One request/response call: a zod schema for the input, a zod schema documenting the result. */
export interface CallSpec<I extends z.ZodTypeAny = z.ZodTypeAny, R extends z.ZodTypeAny = z.ZodTypeAny> {
  input: I;
  result: R;
  summary: string;
}

export function defineCall<I extends z.ZodTypeAny, R extends z.ZodTypeAny>(
  summary: string,
  input: I,
  result: R,
): CallSpec<I, R> {
  return { summary, input, result };
}

export type CallMap = Record<string, CallSpec>;
