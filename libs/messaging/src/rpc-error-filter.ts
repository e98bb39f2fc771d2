import { CodedError, ErrorCodes, type WireError } from '@maskline/contracts';

export const RPC_ERROR_FILTER = Symbol('RPC_ERROR_FILTER');

/**
 * Turns whatever a handler threw into a wire error. Each service provides one (extending this
 * class) to map its own infrastructure errors to codes; anything unrecognised becomes INTERNAL
 * with a message that reveals nothing.
 */
export class RpcErrorFilter {
  toWire(err: unknown): WireError {
    if (err instanceof CodedError) return err.toWire();
    const mapped = this.mapUnknown(err);
    if (mapped) return mapped.toWire();
    return { code: ErrorCodes.INTERNAL, message: 'internal error', retryable: true };
  }

  /** Override to translate a service's own errors (duplicate keys, driver errors, ...). */
  protected mapUnknown(_err: unknown): CodedError | undefined {
    return undefined;
  }
}
