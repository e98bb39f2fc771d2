import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { MetricsService } from './metrics.service';

/** How long an ops request in flight at shutdown has before its connection is cut. */
const STOP_GRACE_MS = 1000;

/**
 * A tiny HTTP server every service runs beside its NATS handlers: `/metrics` for Prometheus,
 * `/livez` and `/readyz` for Kubernetes probes.
 */
export class OpsServer {
  private server?: Server;
  private ready = false;
  private closing = false;

  constructor(
    private readonly metrics: MetricsService,
    private readonly logger: Logger,
  ) {}

  async start(port: number, host = '0.0.0.0'): Promise<number> {
    const server = createServer((req, res) => {
      // Once stopping, every answer ends its connection: a prober that reuses one kept-alive
      // connection without pause would otherwise keep the server from ever closing.
      if (this.closing) res.setHeader('Connection', 'close');
      void this.handle(req.url ?? '/', req.method ?? 'GET')
        .then(({ status, type, body }) => {
          res.writeHead(status, { 'content-type': type });
          res.end(body);
        })
        .catch((err: unknown) => {
          this.logger.error({ err }, 'ops server request failed');
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('error');
        });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const actual = (server.address() as AddressInfo).port;
    this.logger.info({ opsPort: actual }, 'ops server listening (/metrics, /livez, /readyz)');
    return actual;
  }

  setReady(ready: boolean): void {
    this.ready = ready;
  }

  /**
   * Stops listening and ends every connection: idle ones at once, busy ones with their answer, and
   * any still open after STOP_GRACE_MS outright (these are probes and scrapes; none is worth a
   * shutdown that never ends).
   */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.closing = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const cut = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS);
    await closed;
    clearTimeout(cut);
  }

  private async handle(url: string, method: string): Promise<{ status: number; type: string; body: string }> {
    const path = url.split('?')[0];
    if (method !== 'GET') return { status: 405, type: 'text/plain', body: 'method not allowed' };
    if (path === '/metrics') {
      return { status: 200, type: this.metrics.contentType, body: await this.metrics.render() };
    }
    if (path === '/livez') return { status: 200, type: 'application/json', body: '{"status":"up"}' };
    if (path === '/readyz') {
      // Ready means this replica takes traffic: started, and not shutting down. Not whether a
      // dependency every replica shares is up, and without asking one (a paused store would hang
      // the probe): were the store paused, every gateway would turn unready at once and callers
      // would get no answer at all, where a ready gateway still answers "temporarily unavailable"
      // in valid XML. The dependencies are reported by the gateway's /health.
      return {
        status: this.ready ? 200 : 503,
        type: 'application/json',
        body: JSON.stringify({ ready: this.ready }),
      };
    }
    return { status: 404, type: 'text/plain', body: 'not found' };
  }
}
