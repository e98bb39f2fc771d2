import { apiErrorMessage } from '../logic/api-error';
import { consoleEndpoints } from '../logic/console-endpoints';
import { retryWaitMs } from '../logic/retry-after';
import type { ConsoleSession } from '../logic/console-session.types';

/** A request the API answered with an error; `message` is the API's own `error` text when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The answer's `Retry-After`, when it had one. */
    readonly retryAfter: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The console session is over (a 401, or idle past the timeout). The app is already back at sign-in. */
export class SessionEndedError extends Error {
  constructor() {
    super('Your session ended; sign in again.');
    this.name = 'SessionEndedError';
  }
}

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal;
  /** For sign-in and the session check a 401 is an answer, not the end of a session. */
  unauthorizedIsAnswer?: boolean;
}

/** Extra seconds past the server's idle timeout before the console gives up on a quiet session. */
const IDLE_GRACE_MS = 5_000;

/**
 * The one way the console talks to the API: same-origin cookie, JSON both ways, the CSRF token in a header.
 * The token lives only in this object's memory; after a reload it comes back from GET /console/api/session.
 */
export class ApiClient {
  constructor(
    /** Spreads retries of refused reads (up to a quarter of the wait, at most 1 s more), so tabs refused together do not ask again together. */
    private readonly random: () => number = Math.random,
  ) {}

  private csrfToken: string | null = null;
  private idleTimeoutMs = 0;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private sessionEndedListener: () => void = () => undefined;

  /** Called once per ended session: on a 401 or when the idle timeout has passed without a request. */
  onSessionEnded(listener: () => void): void {
    this.sessionEndedListener = listener;
  }

  startSession(session: ConsoleSession): void {
    this.csrfToken = session.csrf_token;
    this.idleTimeoutMs = Math.max(0, session.idle_timeout_seconds) * 1000;
    this.restartIdleTimer();
  }

  clearSession(): void {
    this.csrfToken = null;
    this.idleTimeoutMs = 0;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  /** The current console session, or null when nobody is signed in. */
  async currentSession(signal?: AbortSignal): Promise<ConsoleSession | null> {
    try {
      return await this.request<ConsoleSession>('GET', consoleEndpoints.consoleSession, {
        signal,
        unauthorizedIsAnswer: true,
      });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, { signal });
  }

  /**
   * Sends the request; resolves with the parsed body (null for an empty one such as 204). A read the
   * API refused for now (429 or 503 with `Retry-After`: too many reads of history at once, say; a
   * page asks for several) is asked again after the wait it names, a few times (`retryWaitMs`).
   */
  async request<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    for (let retries = 0; ; retries++) {
      try {
        return await this.requestOnce<T>(method, path, options);
      } catch (error) {
        const wait =
          method === 'GET' && error instanceof ApiError
            ? retryWaitMs(error.status, error.retryAfter, retries, Date.now())
            : null;
        if (wait === null) throw error;
        await waitFor(wait + this.random() * Math.min(1000, wait / 4), options.signal);
      }
    }
  }

  private async requestOnce<T>(method: HttpMethod, path: string, options: RequestOptions): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.csrfToken !== null) headers['X-CSRF-Token'] = this.csrfToken;
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';

    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers,
        credentials: 'same-origin',
        cache: 'no-store',
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new ApiError(0, apiErrorMessage(0, null));
    }

    const body = await readBody(response);
    if (response.status === 401 && !options.unauthorizedIsAnswer) {
      this.endSession();
      throw new SessionEndedError();
    }
    // Any answer but a 401 means the server saw activity on a live session.
    if (response.status !== 401) this.restartIdleTimer();
    if (!response.ok) {
      throw new ApiError(
        response.status,
        apiErrorMessage(response.status, body),
        response.headers.get('Retry-After'),
      );
    }
    return body as T;
  }

  private endSession(): void {
    if (this.csrfToken === null && this.idleTimer === null) return;
    this.clearSession();
    this.sessionEndedListener();
  }

  /**
   * The server ends a session that has been idle for idle_timeout_seconds. Without a request for that long the
   * session is gone, so the console returns to sign-in instead of showing stale pages that would fail anyway.
   */
  private restartIdleTimer(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (this.csrfToken === null || this.idleTimeoutMs <= 0) return;
    this.idleTimer = setTimeout(() => this.endSession(), this.idleTimeoutMs + IDLE_GRACE_MS);
  }
}

/** Resolves after `ms`, or rejects as the fetch would when `signal` aborts first. */
function waitFor(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DOMException('The request was aborted', 'AbortError'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new DOMException('The request was aborted', 'AbortError'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => '');
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The text to show for any failure a view catches. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return 'Something went wrong. Reload the page and try again.';
}

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}
