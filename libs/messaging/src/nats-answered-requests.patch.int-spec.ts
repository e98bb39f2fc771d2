import { connect, ErrorCode, NatsError, type NatsConnection } from 'nats';
import { version } from 'nats/package.json';
import { startTestNats, type RunningProcess } from '@maskline/testing';
import { settleAnsweredRequestsQuietly } from './nats-answered-requests.patch';

describe('answered NATS requests, settled without a throwaway error (real NATS)', () => {
  let nats: RunningProcess;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startTestNats();
    expect(settleAnsweredRequestsQuietly(version)).toBe(true);
    nc = await connect({ servers: nats.url, noAsyncTraces: true });
    nc.subscribe('echo', { callback: (_err, msg) => msg.respond(msg.data) });
    nc.subscribe('silent', { callback: () => undefined });
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('answers requests as before, each with its own reply, and builds no Cancelled error for them', async () => {
    const errors = jest.spyOn(NatsError, 'errorForCode');
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => nc.request('echo', new TextEncoder().encode(`n${i}`))),
    );
    expect(answers.map((m) => new TextDecoder().decode(m.data))).toEqual(
      Array.from({ length: 50 }, (_, i) => `n${i}`),
    );
    // Unpatched, each answered request built one (`Cancelled`, rejecting its settled promise).
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
  });

  it('still fails a request nobody answers with a timeout, and one to no subscriber with 503', async () => {
    await expect(nc.request('silent', new Uint8Array(), { timeout: 200 })).rejects.toMatchObject({
      code: ErrorCode.Timeout,
    } satisfies Partial<NatsError>);
    await expect(nc.request('nobody', new Uint8Array(), { timeout: 2000 })).rejects.toMatchObject({
      code: ErrorCode.NoResponders,
    } satisfies Partial<NatsError>);
  });

  it('leaves another nats.js release alone', () => {
    jest.isolateModules(() => {
      /* eslint-disable @typescript-eslint/no-require-imports -- a fresh copy of the library and the patch */
      const { RequestOne } =
        require('nats/lib/nats-base-client/request') as typeof import('nats/lib/nats-base-client/request');
      const patch =
        require('./nats-answered-requests.patch') as typeof import('./nats-answered-requests.patch');
      /* eslint-enable @typescript-eslint/no-require-imports */
      const own = RequestOne.prototype.resolver;
      expect(patch.settleAnsweredRequestsQuietly('3.0.0')).toBe(false);
      expect(RequestOne.prototype.resolver).toBe(own);
    });
  });
});
