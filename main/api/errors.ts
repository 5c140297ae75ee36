/**
 * Typed errors that cross the IPC / WebSocket boundary. The renderer only ever sees
 * `{ code, message, details }`: never a stack trace or an absolute path.
 */
export type ApiErrorCode =
  | 'VALIDATION'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNKNOWN_CALL'
  | 'FORBIDDEN'
  | 'BAD_INPUT'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export interface ApiErrorShape {
  code: ApiErrorCode;
  message: string;
  details?: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toJSON(): ApiErrorShape {
    return { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) };
  }
}

/** Absolute paths (POSIX or Windows) are replaced so they never reach the renderer. */
export function redactPaths(text: string): string {
  return text
    .replace(/(?:[A-Za-z]:\\|\\\\)[^\s'"]+/g, '<path>')
    .replace(/(^|[\s'"(=:])\/(?:[^\s'"/]+\/)+[^\s'"/)]*/g, '$1<path>');
}

/** Turn anything thrown by a service into a safe, serialisable error. */
export function toApiError(err: unknown): ApiErrorShape {
  if (err instanceof ApiError) {
    return { code: err.code, message: redactPaths(err.message), ...(err.details === undefined ? {} : { details: err.details }) };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message: redactPaths(message) };
}
