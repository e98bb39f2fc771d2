import { Injectable } from '@nestjs/common';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { StoreRpcErrorFilter, isDuplicateKeyError } from '@maskline/persistence';

/** session-service's one RPC error filter: store errors become codes, never internals. */
@Injectable()
export class SessionServiceRpcErrorFilter extends StoreRpcErrorFilter {
  protected override mapServiceError(err: unknown): CodedError | undefined {
    if (isDuplicateKeyError(err)) return new CodedError(ErrorCodes.CONFLICT, 'the resource already exists');
    return undefined;
  }
}
