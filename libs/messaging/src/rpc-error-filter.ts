import { CodedError, ErrorCodes, type WireError } from '@maskline/contracts';
import { ErrorCode as NatsErrorCode } from 'nats';
import { isJetStreamDown, isJetStreamUnavailable } from './jetstream-retry';

export const RPC_ERROR_FILTER = Symbol('RPC_ERROR_FILTER');

/**
 * Codes of a call that found nobody to answer it, a breaker open on a service's failures, or a
 * service saying its own dependency is down (`unreachable`).
 */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set<string>([
  ErrorCodes.RPC_UNAVAILABLE,
  // A service whose store is down answers after its driver gives up on finding a server (5 s), later
  // than its callers wait (RPC_TIMEOUT_MS, 2 s): to them it is a service that does not answer.
  ErrorCodes.RPC_TIMEOUT,
  ErrorCodes.CIRCUIT_OPEN,
  ErrorCodes.DEPENDENCY_UNAVAILABLE,
]);

/** The NATS connection closed or lost under the call. */
function isConnectionLost(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === NatsErrorCode.ConnectionClosed || code === NatsErrorCode.Disconnect;
}

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

  /**
   * Whether `err` says that something a handler stands on could not be reached: a service that does
   * not answer (nobody there, no answer in time, its breaker open) or answers that its own dependency
   * is unavailable, JetStream without a leader or a connection lost, and what `unreachableDependency`
   * adds (the store, for services with one). Not this process's own store command past its deadline:
   * that may be slow for what it was asked (one tenant's data), and a retry would only be slow again.
   * Another service's answers cannot tell the two apart; the services' consumers ask them for one
   * record by its key.
   */
  unreachable(err: unknown): boolean {
    if (err instanceof CodedError) return UNREACHABLE_CODES.has(err.code);
    return isJetStreamDown(err) || isConnectionLost(err) || this.unreachableDependency(err);
  }

  /** Override to add what a service's own dependencies throw when they cannot be reached (its store). */
  protected unreachableDependency(_err: unknown): boolean {
    return false;
  }

  /** Override to translate a service's own errors (duplicate keys, driver errors, ...). */
  protected mapUnknown(_err: unknown): CodedError | undefined {
    return undefined;
  }
}
