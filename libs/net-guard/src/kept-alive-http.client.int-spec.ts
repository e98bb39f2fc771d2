import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpTimeout, KeptAliveHttpClient } from './kept-alive-http.client';

/** A server on loopback (a provider API, say): answers as `answer` says, and counts the connections it was given. */
async function provider(answer: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
  let connections = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => answer(req, body, res));
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('the kept-alive HTTP client', () => {
  const client = new KeptAliveHttpClient();
  afterAll(() => client.close());

  it('posts the body with its headers and reads the answer, over one kept-alive connection', async () => {
    const api = await provider((req, body, res) => {
      res.writeHead(202, { 'content-type': 'application/json', 'x-echo': req.headers.authorization ?? '' });
      res.end(JSON.stringify({ got: body, length: req.headers['content-length'] }));
    });
    try {
      for (let i = 0; i < 3; i++) {
        const answer = await client.post(
          `${api.url}/v1/Message/`,
          { authorization: 'Basic x' },
          'héllo',
          2000,
        );
        expect(answer.status).toBe(202);
        expect(answer.headers['x-echo']).toBe('Basic x');
        expect(JSON.parse(answer.body)).toEqual({ got: 'héllo', length: '6' });
      }
      expect(api.connections()).toBe(1);
    } finally {
      await api.close();
    }
  });

  it('gives up at the deadline with a timeout, and says "unreachable" apart from it', async () => {
    const api = await provider(() => undefined); // never answers
    try {
      await expect(client.post(api.url, {}, 'x', 200)).rejects.toBeInstanceOf(HttpTimeout);
    } finally {
      await api.close();
    }
    await expect(client.post('http://127.0.0.1:9/', {}, 'x', 2000)).rejects.not.toBeInstanceOf(HttpTimeout);
  });

  it('sends once more, on a new connection, a request whose kept-alive connection the server had closed; not one refused on a new connection', async () => {
    const [fresh, another] = [new KeptAliveHttpClient(), new KeptAliveHttpClient()];
    const served = new WeakMap<object, number>();
    let requests = 0;
    let mode: 'close-reused' | 'close-all' = 'close-reused';
    const api = await provider((req, _body, res) => {
      requests += 1;
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      // A server whose idle timeout ended as the request arrived: the connection goes, unanswered.
      if (mode === 'close-all' || n > 1) return req.socket.destroy();
      res.writeHead(200).end('ok');
    });
    try {
      expect((await fresh.post(api.url, {}, 'first', 2000)).status).toBe(200);
      expect((await fresh.post(api.url, {}, 'second', 2000)).status).toBe(200);
      expect([requests, api.connections()]).toEqual([3, 2]);
      mode = 'close-all';
      fresh.close();
      await expect(another.post(api.url, {}, 'third', 2000)).rejects.toMatchObject({ code: 'ECONNRESET' });
      expect(requests).toBe(4);
    } finally {
      fresh.close();
      another.close();
      await api.close();
    }
  });

  it('sends it once more on a connection of its own when every kept-alive one the server had closed', async () => {
    const pooled = new KeptAliveHttpClient();
    const served = new WeakMap<object, number>();
    let closing = false;
    const api = await provider((req, _body, res) => {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      // Past its idle timeout the server closes every connection it had served, as each is reused.
      if (closing && n > 1) return req.socket.destroy();
      res.writeHead(200).end('ok');
    });
    try {
      // Two at once: two kept-alive connections left idle in the client's pool.
      const first = await Promise.all([
        pooled.post(api.url, {}, 'a', 2000),
        pooled.post(api.url, {}, 'b', 2000),
      ]);
      expect(first.map((a) => a.status)).toEqual([200, 200]);
      expect(api.connections()).toBe(2);
      closing = true;
      expect((await pooled.post(api.url, {}, 'c', 2000)).status).toBe(200);
      expect(api.connections()).toBe(3);
    } finally {
      pooled.close();
      await api.close();
    }
  });

  it('returns a redirect as an answer, never following it', async () => {
    const api = await provider((_req, _body, res) => {
      res.writeHead(302, { location: 'http://127.0.0.1:9/elsewhere' });
      res.end();
    });
    try {
      expect((await client.post(api.url, {}, 'x', 2000)).status).toBe(302);
    } finally {
      await api.close();
    }
  });
});
