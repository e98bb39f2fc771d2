export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Retries `assertion` until it stops throwing, or fails with its last error after `timeoutMs`.
 * For asynchronous outcomes (an event consumed, a session expired) without fixed sleeps.
 */
export async function expectEventually<T>(
  assertion: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 50 }: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      return await assertion();
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  if (lastError instanceof Error) {
    lastError.message = `not true after ${timeoutMs} ms: ${lastError.message}`;
    throw lastError;
  }
  throw new Error(`not true after ${timeoutMs} ms: ${String(lastError)}`);
}
