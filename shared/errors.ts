/**
 * Errors a user can meet, shared by every layer and carried across RPC as `{code, message}`.
 *
 * The message is written for the person reading it: what happened and what to do. Anything that
 * is not an AppError is a bug and crosses RPC only as `{code:'internal'}` (details stay in the
 * main process log). This module must never import node, electron or DOM code.
 */
import { z } from 'zod';

export const ErrorCodeSchema = z.enum([
  /** An argument or event failed validation; nothing was written. */
  'invalid-argument',
  /** The RPC method does not exist. */
  'unknown-method',
  'not-found',
  /** The request conflicts with what is stored (e.g. deleting a session that has forks). */
  'conflict',
  /** The database file is damaged or is not a Drover database. */
  'storage-corrupt',
  /** The data folder or database cannot be written. */
  'storage-unwritable',
  /** The disk is full. */
  'storage-full',
  /** Another Drover process holds the data folder. */
  'storage-locked',
  /** The database was written by a newer Drover. */
  'storage-too-new',
  /**
   * The vault's key cannot be had: no OS keyring, a locked one, or one without the key the vault
   * was locked with. Nothing was changed; the message says what to do.
   */
  'vault-unavailable',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

export const RpcErrorSchema = z.strictObject({
  code: ErrorCodeSchema,
  message: z.string(),
  /** Field-level problems for `invalid-argument`. */
  issues: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
});
export type RpcError = z.infer<typeof RpcErrorSchema>;

/** An error meant for the user. Safe to show and to send across RPC as it is. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly issues: RpcError['issues'];

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; issues?: RpcError['issues'] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.issues = options?.issues;
  }

  toRpcError(): RpcError {
    return this.issues === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, issues: this.issues };
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
