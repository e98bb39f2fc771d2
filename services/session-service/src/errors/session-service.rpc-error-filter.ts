import { Injectable } from '@nestjs/common';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { RpcErrorFilter } from '@maskline/messaging';
import { isDuplicateKeyError, isStoreUnavailableError } from '@maskline/persistence';

/** session-service's one RPC error filter: store errors become codes, never internals. */
@Injectable()
export class SessionServiceRpcErrorFilter extends RpcErrorFilter {
  protected override mapUnknown(err: unknown): CodedError | undefined {
    if (isDuplicateKeyError(err)) return new CodedError(ErrorCodes.CONFLICT, 'the resource already exists');
    if (isStoreUnavailableError(err)) {
      return new CodedError(ErrorCodes.RPC_UNAVAILABLE, 'session store is unavailable', { retryable: true });
    }
    return undefined;
  }
}
