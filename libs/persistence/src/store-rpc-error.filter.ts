import { CodedError, ErrorCodes } from '@maskline/contracts';
import { RpcErrorFilter } from '@maskline/messaging';
import { isStoreUnavailableError } from './mongo-errors';

/**
 * Base RPC error filter for services with a store: an unreachable store becomes a retryable
 * `RPC.UNAVAILABLE` instead of an internal error. Each service extends it with its own mappings.
 */
export class StoreRpcErrorFilter extends RpcErrorFilter {
  protected override mapUnknown(err: unknown): CodedError | undefined {
    if (isStoreUnavailableError(err)) {
      return new CodedError(ErrorCodes.RPC_UNAVAILABLE, 'the store is unavailable', { retryable: true });
    }
    return this.mapServiceError(err);
  }

  /** Override to translate this service's own errors. */
  protected mapServiceError(_err: unknown): CodedError | undefined {
    return undefined;
  }
}
