import { RequestOne } from 'nats/lib/nats-base-client/request';

/** The nats.js release whose request internals this patch was read against (see below). */
const PATCHED_NATS_VERSION = '2.29.3';

interface RequestInternals {
  timer?: { cancel(): void };
  deferred: { resolve(msg: unknown): void };
  mux: { cancel(request: unknown): void };
  resolver(err: Error | null, msg: unknown): void;
}

let patched = false;

/**
 * nats.js 2.29.3 ends every answered request (a request-reply, a JetStream publish, a KV read or
 * write) with `RequestOne.cancel()`, which rejects the promise it has just resolved with a new
 * `Cancelled` NatsError: a stack trace captured for nothing, 2–5 % of a service's CPU in the
 * bench:messages profile. From here on an answered request is settled the same way without it (its
 * timer cleared, its promise resolved, its entry dropped from the mux); a failed one, a timeout or a
 * closed connection go the library's own way. Another nats.js release is left alone (its
 * internals were not read): false, and nothing is changed.
 */
export function settleAnsweredRequestsQuietly(version: string): boolean {
  if (version !== PATCHED_NATS_VERSION) return false;
  if (patched) return true;
  const proto = RequestOne.prototype as unknown as RequestInternals;
  const own = proto.resolver;
  proto.resolver = function (this: RequestInternals, err: Error | null, msg: unknown): void {
    if (err) return own.call(this, err, msg);
    this.timer?.cancel();
    this.deferred.resolve(msg);
    this.mux.cancel(this);
  };
  patched = true;
  return true;
}
