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
 * POSTs over kept-alive connections (one pool per client), with a deadline: the message relay's
 * sends to a provider's REST API, the telephony simulator's webhooks. Plain `node:http`: `fetch`
 * cost about a third of the router's CPU per message (bench:messages profile). A redirect is an
 * answer like any other (never followed).
 */
export class KeptAliveHttpClient {
  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: 256 });
  private readonly https = new HttpsAgent({ keepAlive: true, maxSockets: 256 });

  post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<HttpAnswer> {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const signal = AbortSignal.timeout(timeoutMs);
    return new Promise((resolve, reject) => {
      const req = (secure ? httpsRequest : httpRequest)(
        target,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          agent: secure ? this.https : this.http,
          signal,
        },
        (res) => {
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
          res.on('error', (err) =>
            reject(signal.aborted ? new HttpTimeout(`no answer within ${timeoutMs} ms`) : err),
          );
        },
      );
      req.on('error', (err) =>
        reject(signal.aborted ? new HttpTimeout(`no answer within ${timeoutMs} ms`) : err),
      );
      req.end(body);
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}
