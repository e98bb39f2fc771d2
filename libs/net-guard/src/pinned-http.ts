import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

export interface OutboundRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** The address the guard approved: the connection goes there, whatever DNS says now. */
  address: string;
  family: 4 | 6;
  connectTimeoutMs: number;
  totalTimeoutMs: number;
  maxBodyBytes: number;
  /** Keep the answer's body (up to maxBodyBytes) and content type: for answers that say what to do. */
  keepBody?: boolean;
}

export type SendResult =
  | {
      kind: 'response';
      statusCode: number;
      latencyMs: number;
      retryAfterSeconds?: number;
      /** With keepBody: the body as read (cut at maxBodyBytes) and its content type. */
      body?: string;
      contentType?: string;
    }
  | { kind: 'network-error'; latencyMs: number; error: string }
  | { kind: 'timeout'; latencyMs: number; error: string };

/**
 * One HTTP attempt to an address a UrlGuard approved. Connects to the pinned address (TLS still
 * checks the URL's host name), gives up after the connect or total timeout, reads at most
 * maxBodyBytes of the answer, follows no redirect (a 3xx is an answer like any other).
 */
export function sendPinned(req: OutboundRequest): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    const url = new URL(req.url);
    const lookup: LookupFunction = (_host, options, cb) => {
      if (typeof options === 'object' && options?.all) {
        (cb as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [
          { address: req.address, family: req.family },
        ]);
      } else cb(null, req.address, req.family);
    };
    const make = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(total);
      resolve(result);
    };
    const client = make(
      url,
      { method: req.method, headers: req.headers, lookup, servername: url.hostname, agent: false },
      (res: IncomingMessage) => {
        let read = 0;
        const kept: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (req.keepBody && read <= req.maxBodyBytes) kept.push(chunk);
          if (read > req.maxBodyBytes) res.destroy();
        });
        const done = () =>
          finish({
            kind: 'response',
            statusCode: res.statusCode ?? 0,
            latencyMs: elapsed(),
            retryAfterSeconds: retryAfter(res.headers['retry-after']),
            ...(req.keepBody
              ? {
                  body: Buffer.concat(kept).toString('utf8'),
                  contentType: String(res.headers['content-type'] ?? ''),
                }
              : {}),
          });
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      },
    );
    const total = setTimeout(() => {
      client.destroy();
      finish({ kind: 'timeout', latencyMs: elapsed(), error: `no answer within ${req.totalTimeoutMs} ms` });
    }, req.totalTimeoutMs);
    client.on('socket', (socket) => {
      if (socket.connecting) {
        const connect = setTimeout(() => {
          client.destroy();
          finish({
            kind: 'timeout',
            latencyMs: elapsed(),
            error: `could not connect within ${req.connectTimeoutMs} ms`,
          });
        }, req.connectTimeoutMs);
        socket.once('connect', () => clearTimeout(connect));
        socket.once('secureConnect', () => clearTimeout(connect));
        socket.once('close', () => clearTimeout(connect));
      }
    });
    client.on('error', (err) => finish({ kind: 'network-error', latencyMs: elapsed(), error: err.message }));
    if (req.body) client.write(req.body);
    client.end();
  });
}

function retryAfter(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
