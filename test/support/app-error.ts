/** For tests that check what a service refused: the AppError a call throws. */
import { expect } from 'vitest';
import { AppError } from '#shared/errors';

/** Catches the AppError thrown by `work` and returns it (failing if none, or another error, is thrown). */
export function appError(work: () => unknown): AppError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected an AppError, but nothing was thrown');
}
