import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** The most of an answer that is read (a provider's JSON names its message, a webhook's XML says what to do; the rest is dropped). */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** No answer within the time given (the request may have reached the server). */
export class HttpTimeout extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * POSTs and GETs over kept-alive connections (one pool per client), with a deadline: the message
 * relay's sends to a provider's REST API, number-pool's questions to it, the telephony simulator's
 * webhooks. Plain `node:http`: `fetch`
 * cost about a third of the router's CPU per message (bench:messages profile). A redirect is an
 * answer like any other (never followed). Not guarded: for hosts Maskline's configuration names
 * (provider APIs, a local gateway); a URL a tenant gives goes through UrlGuard and sendPinned.
 */
export class KeptAliveHttpClient {
  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: 256 });
  private readonly https = new HttpsAgent({ keepAlive: true, maxSockets: 256 });

  post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<HttpAnswer> {
    return this.send('POST', url, headers, body, timeoutMs);
  }

  get(url: string, headers: Record<string, string>, timeoutMs: number): Promise<HttpAnswer> {
    return this.send('GET', url, headers, null, timeoutMs);
  }

  private send(
    method: 'GET' | 'POST',
    url: string,
    headers: Record<string, string>,
    body: string | null,
    timeoutMs: number,
  ): Promise<HttpAnswer> {
    // A timer cleared once answered, not `AbortSignal.timeout`, whose signal lives until its time is
    // up and then builds an exception nobody reads: for each of a relay's sends, it was among what a
    // heap sample of the router under bench:messages found surviving young-generation collections.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    timer.unref();
    const timedOut = () => new HttpTimeout(`no answer within ${timeoutMs} ms`);
    return this.attempt(method, new URL(url), headers, body, deadline.signal, timedOut, true).finally(() =>
      clearTimeout(timer),
    );
  }

  /**
   * One request. A kept-alive connection the server closed as it was taken for this request (the
   * server's idle timeout ending as the request left, whatever its Keep-Alive hint said) fails at
   * once with ECONNRESET or EPIPE, before any answer: the request is sent once more, on a new
   * connection outside the pool, within the same deadline (`retryStale`), as Node's documentation
   * advises. Any other failure is the caller's.
   */
  private attempt(
    method: 'GET' | 'POST',
    target: URL,
    headers: Record<string, string>,
    body: string | null,
    signal: AbortSignal,
    timedOut: () => HttpTimeout,
    retryStale: boolean,
  ): Promise<HttpAnswer> {
    const secure = target.protocol === 'https:';
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = (secure ? httpsRequest : httpRequest)(
        target,
        {
          method,
          headers:
            body === null ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          // Sent again on a connection of its own (no agent): the pool may hold other connections
          // the server closed meanwhile, and handing out one of them would fail it the same way.
          agent: retryStale ? (secure ? this.https : this.http) : false,
          signal,
        },
        (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', (err) => reject(signal.aborted ? timedOut() : err));
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (signal.aborted) return reject(timedOut());
        const stale = req.reusedSocket && !answered && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
        if (stale && retryStale) {
          resolve(this.attempt(method, target, headers, body, signal, timedOut, false));
          return;
        }
        reject(err);
      });
      req.end(body ?? undefined);
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}
