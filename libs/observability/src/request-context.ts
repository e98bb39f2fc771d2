import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export interface RequestContext {
  /** Born at the gateway (or taken from `X-Request-Id`), carried in NATS headers. */
  correlationId: string;
  /**
   * When the request's answer is due (`Date.now()` ms), if it has a deadline (a read of history):
   * the store commands made for it take what is left.
   */
  deadline?: number;
  /**
   * Takes the request's share of the reads of history allowed at once (the RPC server sets it; the
   * first call takes it, later ones find it taken): a request that reads history must hold it. Without
   * `kind`, the share the request was admitted with (a scan for one not marked as reading history);
   * with `'scan'`, a scan's share as well, for a read that turns out to span much of the history.
   */
  admitHistoryRead?: (kind?: 'scan') => Promise<void>;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` with a correlation id visible to every log line and outgoing NATS message below it. */
export function runWithContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}

/** Milliseconds left before the current request's deadline, if it has one (never below 0). */
export function msLeftOfRequest(now = Date.now()): number | undefined {
  const deadline = storage.getStore()?.deadline;
  return deadline === undefined ? undefined : Math.max(0, deadline - now);
}

/**
 * Before a read of history (a collection that grows with history) made for a request: waits for
 * the request's admission, or throws its refusal. Outside a request (a sweep, an event handler)
 * there is none to wait for.
 */
export async function admitHistoryRead(): Promise<void> {
  await storage.getStore()?.admitHistoryRead?.();
}

/**
 * Before a read made for a request that spans much of the history though the request reads one
 * session (a session that has lived for weeks, an id that names no time): a scan's share of the reads
 * allowed at once as well as its own, or the refusal. Outside a request, nothing.
 */
export async function admitHistoryScan(): Promise<void> {
  await storage.getStore()?.admitHistoryRead?.('scan');
}

const CORRELATION_ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Accepts a caller-supplied id only if it is short and plain; otherwise makes a new one. */
export function acceptOrCreateCorrelationId(candidate: string | undefined | null): string {
  if (candidate && CORRELATION_ID_PATTERN.test(candidate)) return candidate;
  return randomUUID();
}
