import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCallback {
  path: string;
  method: string;
  /** The full URL as the sender addressed it (what it signed). */
  url: string;
  headers: IncomingMessage['headers'];
  params: Record<string, string>;
  at: number;
}

type Behaviour = (
  received: ReceivedCallback,
  countForPath: number,
) => { status: number; delayMs?: number; headers?: Record<string, string>; body?: string };

/**
 * A customer's callback endpoint: records every request (unless told not to keep them: a soak's
 * hundreds of thousands); each path answers as told.
 */
export class CallbackReceiver {
  readonly received: ReceivedCallback[] = [];
  /** Requests per path, counted as they come (a behaviour's `countForPath`). */
  private readonly counts = new Map<string, number>();
  private readonly behaviours = new Map<string, Behaviour>();
  private server?: Server;
  baseUrl = '';

  private constructor(private readonly keep: boolean) {}

  static async start(options: { keepReceived?: boolean } = {}): Promise<CallbackReceiver> {
    const r = new CallbackReceiver(options.keepReceived ?? true);
    await r.listen();
    return r;
  }

  on(path: string, behaviour: Behaviour): void {
    this.behaviours.set(path, behaviour);
  }

  for(path: string): ReceivedCallback[] {
    return this.received.filter((r) => r.path === path);
  }

  private async listen(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', this.baseUrl);
        const params = (
          req.method === 'GET'
            ? Object.fromEntries(url.searchParams)
            : req.headers['content-type']?.startsWith('application/json')
              ? Object.fromEntries(
                  Object.entries(JSON.parse(body || '{}') as Record<string, unknown>).map(([k, v]) => [
                    k,
                    String(v),
                  ]),
                )
              : Object.fromEntries(new URLSearchParams(body))
        ) as Record<string, string>;
        const entry: ReceivedCallback = {
          path: url.pathname,
          method: req.method ?? 'GET',
          url: `${this.baseUrl}${req.url ?? '/'}`,
          headers: req.headers,
          params,
          at: Date.now(),
        };
        if (this.keep) this.received.push(entry);
        // Counted, not filtered out of every request kept: that made each request cost as many as
        // had come, and in a soak the receiver, slower and slower, held up the dispatcher's sends.
        const count = (this.counts.get(url.pathname) ?? 0) + 1;
        this.counts.set(url.pathname, count);
        const behaviour: Behaviour = this.behaviours.get(url.pathname) ?? (() => ({ status: 200 }));
        const answer = behaviour(entry, count);
        const reply = () => {
          if (res.destroyed) return;
          res.writeHead(answer.status, answer.headers);
          res.end(answer.body ?? 'ok');
        };
        if (answer.delayMs) setTimeout(reply, answer.delayMs);
        else reply();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
