import { CodedError, ErrorCodes, type WireError } from '@maskline/contracts';
import { isJetStreamUnavailable } from './jetstream-retry';

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
    // NATS had nobody to serve a request (503) or no answer in time: JetStream or KV for a moment
    // (a node lost, a leader moving). Retryable, and the caller's to know: not an internal error.
    if (isJetStreamUnavailable(err)) {
      return {
        code: ErrorCodes.DEPENDENCY_UNAVAILABLE,
        message: 'a dependency is temporarily unavailable; retry shortly',
        retryable: true,
      };
    }
    return { code: ErrorCodes.INTERNAL, message: 'internal error', retryable: true };
  }

  /** Override to translate a service's own errors (duplicate keys, driver errors, ...). */
  protected mapUnknown(_err: unknown): CodedError | undefined {
    return undefined;
  }
}
