import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection, type Subscription } from 'nats';
import pino from 'pino';
import { AllocateNumber, AllocateVirtualNumber, ErrorCodes } from '@maskline/contracts';
import { MetricsService } from '@maskline/observability';
import { BreakerRegistry } from '@maskline/resilience';
import { startTestNats, type RunningProcess } from '@maskline/testing';
import { decodeJson, encodeJson } from './json-codec';
import type { MessagingOptions } from './messaging.options';
import { RpcClient } from './rpc-client';

describe('RpcClient across a rolling upgrade (real NATS)', () => {
  let nats: RunningProcess;
  let nc: NatsConnection;
  let client: RpcClient;
  const subs: Subscription[] = [];

  /** A replica that answers one subject, recording what it was asked. */
  const answer = (subject: string, data: unknown) => {
    const asked: unknown[] = [];
    const sub = nc.subscribe(subject, {
      callback: (_err, m) => {
        asked.push(decodeJson(m.data));
        m.respond(encodeJson({ ok: true, data }));
      },
    });
    subs.push(sub);
    return asked;
  };

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await connect({ servers: nats.url });
    const metrics = new MetricsService('test');
    client = new RpcClient(
      nc,
      { service: 'session-service', rpcTimeoutMs: 2000, breaker: {} } as unknown as MessagingOptions,
      new BreakerRegistry(pino({ level: 'silent' }), metrics),
      metrics,
    );
  });

  afterEach(() => {
    for (const s of subs.splice(0)) s.unsubscribe();
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  const request = () => ({
    scope: { accountId: 'MAAAAAAAAAAAAAAAAAA1' },
    allocationId: randomUUID(),
    parties: ['+14155551001', '+14155551002'],
    geomatch: true,
    cooloffSeconds: 0,
    excludeNumbers: [],
  });

  it('asks the previous version, in its terms, when only a replica of the previous release answers', async () => {
    const asked = answer(AllocateVirtualNumber.subject, { virtualNumber: '+14155550100', country: 'US' });
    const r = request();
    await expect(client.request(AllocateNumber, r)).resolves.toEqual({
      virtualNumber: '+14155550100',
      country: 'US',
    });
    const { allocationId, ...rest } = r;
    expect(asked).toEqual([{ ...rest, sessionId: allocationId }]);
  });

  it('asks the current version alone when it is answered', async () => {
    const old = answer(AllocateVirtualNumber.subject, { virtualNumber: '+14155550100', country: 'US' });
    const current = answer(AllocateNumber.subject, { virtualNumber: '+14155550199', country: 'US' });
    await expect(client.request(AllocateNumber, request())).resolves.toMatchObject({
      virtualNumber: '+14155550199',
    });
    expect([current.length, old.length]).toEqual([1, 0]);
  });

  it('is unavailable when neither version answers', async () => {
    await expect(client.request(AllocateNumber, request())).rejects.toMatchObject({
      code: ErrorCodes.RPC_UNAVAILABLE,
    });
  });
});
