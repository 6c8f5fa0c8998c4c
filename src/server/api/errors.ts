import type { ErrorCode } from '../../errors.ts';

/** An API error with an HTTP status; the server's error handler turns it into `{ code, error }`. */
export class ApiError extends Error {
  constructor(readonly statusCode: number, readonly code: ErrorCode, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

/** 400 naming the query parameter that is wrong. */
export function badParam(name: string, why: string): ApiError {
  return new ApiError(400, 'SMOKEMESH_E_PARAM', `querystring/${name} ${why}`);
}

/** 404 for a target path that neither the config nor the store knows. */
export function unknownTarget(path: string): ApiError {
  return new ApiError(404, 'SMOKEMESH_E_NOT_FOUND', `no target "${path}" in the config or the store (querystring/target)`);
}
