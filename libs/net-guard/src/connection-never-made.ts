/** Failures to connect (or to find the host): the request was never sent. */
const NOT_SENT_SYSCALLS = new Set(['connect', 'getaddrinfo']);

/**
 * Whether a failed HTTP request (fetch's error) never left this process: no connection was made.
 * fetch's cause is the socket's error; when Node tried every address of the host, an AggregateError
 * of theirs; undici's own connect timeout has a code and no syscall. Anything else (a reset, a TLS
 * failure, a socket closed mid-answer) may have come after the request went.
 */
export function connectionNeverMade(err: unknown): boolean {
  const cause = (err as { cause?: unknown } | null)?.cause as
    | { code?: string; syscall?: string; errors?: Array<{ syscall?: string }> }
    | undefined;
  if (!cause) return false;
  if (cause.code === 'UND_ERR_CONNECT_TIMEOUT') return true;
  if (NOT_SENT_SYSCALLS.has(cause.syscall ?? '')) return true;
  const each = cause.errors;
  return Array.isArray(each) && each.length > 0 && each.every((e) => NOT_SENT_SYSCALLS.has(e?.syscall ?? ''));
}
