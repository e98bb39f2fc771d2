/** Failures to connect (or to find the host): the request was never sent. */
const NOT_SENT_SYSCALLS = new Set(['connect', 'getaddrinfo']);

interface SocketFailure {
  code?: string;
  syscall?: string;
  errors?: Array<{ syscall?: string }>;
}

/**
 * Whether a failed HTTP request never left this process: no connection was made. fetch wraps the
 * socket's error as its cause; `node:http` (KeptAliveHttpClient) rejects with the socket's error
 * itself. When Node tried every address of the host, the socket's error is an AggregateError of
 * theirs; undici's own connect timeout has a code and no syscall. Anything else (a reset, a TLS
 * failure, a socket closed mid-answer) may have come after the request went.
 */
export function connectionNeverMade(err: unknown): boolean {
  const wrapped = (err as { cause?: unknown } | null)?.cause;
  const socket = (wrapped ?? err) as SocketFailure | null | undefined;
  if (!socket || typeof socket !== 'object') return false;
  if (socket.code === 'UND_ERR_CONNECT_TIMEOUT') return true;
  if (NOT_SENT_SYSCALLS.has(socket.syscall ?? '')) return true;
  const each = socket.errors;
  return Array.isArray(each) && each.length > 0 && each.every((e) => NOT_SENT_SYSCALLS.has(e?.syscall ?? ''));
}
