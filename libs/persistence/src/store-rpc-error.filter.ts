import { CodedError, ErrorCodes } from '@maskline/contracts';
import { RpcErrorFilter } from '@maskline/messaging';
import { isStoreUnavailableError, isStoreUnreachableError } from './mongo-errors';

/**
 * Base RPC error filter for services with a store: an unreachable store becomes a retryable
 * `INTERNAL.DEPENDENCY_UNAVAILABLE` instead of an internal error. Not `RPC.UNAVAILABLE` ("nobody
 * got the request"): a write the store did not answer may still be carried out, so the caller
 * compensates as for a timeout. Each service extends it with its own mappings.
 */
export class StoreRpcErrorFilter extends RpcErrorFilter {
  protected override mapUnknown(err: unknown): CodedError | undefined {
    if (isStoreUnavailableError(err)) {
      return new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the store is unavailable', {
        retryable: true,
      });
    }
    return this.mapServiceError(err);
  }

  protected override unreachableDependency(err: unknown): boolean {
    return isStoreUnreachableError(err);
  }

  /** Override to translate this service's own errors. */
  protected mapServiceError(_err: unknown): CodedError | undefined {
    return undefined;
  }
}
