import { CodedError } from './coded-error';
import { ErrorCodes } from './error-codes';

/** A call that failed this way may still have been carried out (no answer, or a failure mid-way). */
export function mayHaveHappened(err: unknown): boolean {
  return (
    !(err instanceof CodedError) ||
    err.code === ErrorCodes.RPC_TIMEOUT ||
    err.code === ErrorCodes.INTERNAL ||
    err.code === ErrorCodes.DEPENDENCY_UNAVAILABLE ||
    // The call was carried out, and its answer did not pass its contract.
    err.code === ErrorCodes.BAD_REPLY
  );
}
