/**
 * Errors in the Managed Agents API's shape: `{type:'error', error:{type, message}, request_id}`
 * with the status codes the official SDK maps to its error classes (400 BadRequestError,
 * 401 AuthenticationError, 404 NotFoundError, 409 ConflictError, 413, 429, 5xx).
 */
import { isAppError, type ErrorCode } from '#shared/errors';
import { describeIssues, issuesText } from '#shared/events';
import type { z } from 'zod';

export type ApiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error';

const STATUS: Record<ApiErrorType, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  conflict_error: 409,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
};

/** An error a client caused or may act on: sent as it is. */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly type: ApiErrorType,
    message: string,
    status?: number,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status ?? STATUS[type];
  }
}

export function invalid(message: string): ApiError {
  return new ApiError('invalid_request_error', message);
}

export function notFound(what: string, id: string): ApiError {
  return new ApiError('not_found_error', `No ${what} with id ${JSON.stringify(id)} exists here. List them to see the ids there are.`);
}

/** A body or query that failed its schema: what was wrong, field by field. */
export function invalidInput(what: string, error: z.ZodError): ApiError {
  return invalid(`${what}: ${issuesText(describeIssues(error.issues))}.`);
}

const FROM_APP_CODE: Record<ErrorCode, ApiErrorType> = {
  'invalid-argument': 'invalid_request_error',
  'unknown-method': 'not_found_error',
  'not-found': 'not_found_error',
  conflict: 'conflict_error',
  'storage-corrupt': 'api_error',
  'storage-unwritable': 'api_error',
  'storage-full': 'api_error',
  'storage-locked': 'api_error',
  'storage-too-new': 'api_error',
  'vault-unavailable': 'api_error',
  internal: 'api_error',
};

/** An AppError (or an RPC error) in the API's words: its message is written for the user already. */
export function fromAppError(code: ErrorCode, message: string): ApiError {
  return new ApiError(FROM_APP_CODE[code], message);
}

export function asApiError(error: unknown): ApiError | null {
  if (error instanceof ApiError) return error;
  if (isAppError(error)) return fromAppError(error.code, error.message);
  return null;
}

export function errorBody(error: ApiError, requestId: string): unknown {
  return { type: 'error', error: { type: error.type, message: error.message }, request_id: requestId };
}
