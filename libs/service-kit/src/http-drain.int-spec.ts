import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpDrain } from './http-drain';

/** A server whose `/slow` requests wait until the test lets them go. */
async function server() {
  const held: Array<() => void> = [];
  let arrived = 0;
  const s: Server = createServer((req, res) => {
    arrived += 1;
    const answer = () => res.end('done');
    if (req.url === '/slow') held.push(answer);
    else answer();
  });
  const drain = new HttpDrain(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  const get = (path: string) =>
    new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  const until = async (predicate: () => boolean) => {
    while (!predicate()) await new Promise((r) => setImmediate(r));
  };
  return { s, drain, get, held, arrived: () => arrived, until };
}

describe('draining an HTTP server', () => {
  it('answers the requests in flight, then stops accepting, and says when nothing is left', async () => {
    const { s, drain, get, held, until } = await server();
    const inFlight = get('/slow');
    await until(() => held.length === 1);

    let finished = false;
    const drained = drain.drain({ delayMs: 0, graceMs: 10_000 }).then((left) => ((finished = true), left));
    await until(() => !s.listening);
    await expect(get('/fast')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(finished).toBe(false);

    held[0]!();
    expect(await inFlight).toEqual({ status: 200, connection: 'close', body: 'done' });
    expect(await drained).toBe(0);
  });

  it('keeps answering new requests during the delay, while balancers move away', async () => {
    const { drain, get } = await server();
    const drained = drain.drain({ delayMs: 200, graceMs: 1000 });
    expect(await get('/fast')).toMatchObject({ status: 200, body: 'done' });
    expect(await drained).toBe(0);
  });

  it('gives up after the grace and reports what was left', async () => {
    const { drain, get, held, until } = await server();
    void get('/slow').catch(() => undefined);
    await until(() => held.length === 1);
    expect(await drain.drain({ delayMs: 0, graceMs: 50 })).toBe(1);
    held[0]!();
  });
});
