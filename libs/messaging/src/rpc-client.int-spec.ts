import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection, type Subscription } from 'nats';
import pino from 'pino';
import { AllocateNumber, AllocateVirtualNumber, ErrorCodes, ListSessions } from '@maskline/contracts';
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

  it('waits longer for an answer that reads history than for a hot-path one', async () => {
    const metrics = new MetricsService('test-deadlines');
    const impatient = new RpcClient(
      nc,
      { service: 'gateway', rpcTimeoutMs: 100, breaker: {} } as unknown as MessagingOptions,
      new BreakerRegistry(pino({ level: 'silent' }), metrics),
      metrics,
    );
    /** A replica that answers after `ms` (a store scanning its history). */
    const slowly = (subject: string, data: unknown, ms: number) =>
      subs.push(
        nc.subscribe(subject, {
          callback: (_err, m) => void setTimeout(() => m.respond(encodeJson({ ok: true, data })), ms),
        }),
      );
    slowly(ListSessions.subject, { total: 0, objects: [] }, 400);
    slowly(AllocateNumber.subject, { virtualNumber: '+14155550199', country: 'US' }, 400);
    const list = {
      scope: { accountId: 'MAAAAAAAAAAAAAAAAAA1' },
      status: 'all' as const,
      createdTime: {},
      expiryTime: {},
      durationSeconds: {},
      limit: 20,
      offset: 0,
    };
    await expect(impatient.request(ListSessions, list)).resolves.toEqual({ total: 0, objects: [] });
    await expect(impatient.request(AllocateNumber, request())).rejects.toMatchObject({
      code: ErrorCodes.RPC_TIMEOUT,
    });
  });

  it('is unavailable when neither version answers', async () => {
    await expect(client.request(AllocateNumber, request())).rejects.toMatchObject({
      code: ErrorCodes.RPC_UNAVAILABLE,
    });
  });
});
