import {
  Agent,
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** Tries of one request that never reached a replica. */
const MAX_TRIES = 4;

export interface Backend {
  name: string;
  /** host:port of its HTTP server. */
  port: number;
  /** Its readiness endpoint (the ops port's /readyz), once known. */
  readyUrl?: string;
  ready: boolean;
  /** Probes failed in a row. */
  failures?: number;
}

/**
 * A load balancer on loopback, as Kubernetes puts in front of the gateways: round robin over the
 * backends whose readiness probe answers 200 (probed every 100 ms, out after three failures). A
 * request that never reached a replica is tried again, as an ingress's proxy does: over a new
 * connection to the same replica when the kept-alive socket it took had been closed by the replica,
 * on another replica when the connection was refused; four tries at most. What a replica answers
 * is passed through unchanged, so its 5xx are the clients' to see.
 */
export class Balancer {
  private readonly backends = new Map<string, Backend>();
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private server?: Server;
  private probe?: NodeJS.Timeout;
  private next = 0;
  url = '';
  /** Requests no ready backend could take (answered 503 by the balancer itself). */
  refused = 0;
  /** Requests a replica dropped mid-way (answered 502 by the balancer): a crash, never a drain. */
  broken = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.probe = setInterval(() => void this.probeAll(), 100);
  }

  set(backend: Omit<Backend, 'ready'>): void {
    const known = this.backends.get(backend.name);
    this.backends.set(backend.name, {
      ...backend,
      ready: known?.port === backend.port ? known.ready : false,
    });
  }

  remove(name: string): void {
    this.backends.delete(name);
  }

  readyCount(): number {
    return [...this.backends.values()].filter((b) => b.ready).length;
  }

  private async probeAll(): Promise<void> {
    await Promise.all(
      [...this.backends.values()].map(async (b) => {
        if (!b.readyUrl) return;
        let ok = false;
        try {
          const res = await fetch(b.readyUrl, { signal: AbortSignal.timeout(1000) });
          ok = res.status === 200;
          await res.arrayBuffer();
        } catch {
          ok = false;
        }
        // As Kubernetes probes: in at the first success, out after three failures in a row.
        b.failures = ok ? 0 : (b.failures ?? 0) + 1;
        if (ok) b.ready = true;
        else if (b.failures >= 3) b.ready = false;
      }),
    );
  }

  private pick(except?: string): Backend | undefined {
    const ready = [...this.backends.values()].filter((b) => b.ready && b.name !== except);
    if (ready.length === 0) return undefined;
    this.next = (this.next + 1) % ready.length;
    return ready[this.next];
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    let backend = this.pick();
    const tried: string[] = [];
    for (let attempt = 0; attempt < MAX_TRIES && backend; attempt++) {
      try {
        await this.forward(backend, req, body, res);
        return;
      } catch (err) {
        // Only what never reached a replica is tried again: a refused connection, or a kept-alive
        // socket the replica had closed (as it drained, or idle: Node's documented retry case).
        const code = (err as { code?: string }).code;
        const staleSocket = code === 'ECONNRESET' && (err as { reused?: boolean }).reused === true;
        const retriable = code === 'ECONNREFUSED' || staleSocket;
        tried.push(`${backend.name} ${code ?? 'error'}${staleSocket ? ' on a kept-alive socket' : ''}`);
        if (res.headersSent || !retriable) {
          this.broken += 1;
          if (res.headersSent) res.destroy(err as Error);
          else {
            res.writeHead(502, { 'content-type': 'text/plain' });
            res.end('the replica dropped the connection');
          }
          return;
        }
        // The agent dropped the stale socket: the same replica again takes a new connection.
        backend = staleSocket ? backend : this.pick(backend.name);
      }
    }
    this.refused += 1;
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `no ready backend took it (${tried.join('; ') || 'none ready'})` }));
  }

  private forward(backend: Backend, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: req.headers.host ?? '', 'content-length': String(body.length) };
      const out = request(
        {
          host: '127.0.0.1',
          port: backend.port,
          method: req.method,
          path: req.url,
          headers,
          agent: this.agent,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', () => resolve());
          answer.on('error', reject);
        },
      );
      out.on('error', (err) => reject(Object.assign(err, { reused: out.reusedSocket })));
      out.end(body);
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.probe);
    this.agent.destroy();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
