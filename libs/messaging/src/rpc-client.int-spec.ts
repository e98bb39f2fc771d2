import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection, type Subscription } from 'nats';
import pino from 'pino';
import { z } from 'zod';
import {
  AllocateNumber,
  AllocateVirtualNumber,
  ErrorCodes,
  ListSessions,
  defineRpc,
} from '@maskline/contracts';
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

  it('does not ask the previous version when the current one answers that nobody listened to it', async () => {
    const old = answer(AllocateVirtualNumber.subject, { virtualNumber: '+14155550100', country: 'US' });
    subs.push(
      nc.subscribe(AllocateNumber.subject, {
        callback: (_err, m) =>
          m.respond(
            encodeJson({
              ok: false,
              error: {
                code: ErrorCodes.RPC_UNAVAILABLE,
                message: 'pin-auth is not available',
                retryable: true,
                details: { reason: 'no-responders' },
              },
            }),
          ),
      }),
    );
    await expect(client.request(AllocateNumber, request())).rejects.toMatchObject({
      code: ErrorCodes.RPC_UNAVAILABLE,
    });
    expect(old).toEqual([]);
  });

  it('is unavailable when neither version answers', async () => {
    await expect(client.request(AllocateNumber, request())).rejects.toMatchObject({
      code: ErrorCodes.RPC_UNAVAILABLE,
    });
  });

  describe("its breaker for a service counts that service's faults, not its dependencies'", () => {
    /**
     * A client whose breaker opens after 4 calls at half of them failed, and stays open a minute;
     * `timeoutMs` short only where a call is to go unanswered (a loaded machine answers late).
     */
    const touchyClient = (name: string, timeoutMs = 2000) => {
      const metrics = new MetricsService(name);
      return new RpcClient(
        nc,
        {
          service: 'gateway',
          rpcTimeoutMs: timeoutMs,
          breaker: { volumeThreshold: 4, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 },
        } as unknown as MessagingOptions,
        new BreakerRegistry(pino({ level: 'silent' }), metrics),
        metrics,
      );
    };
    /** A replica that fails `times` requests with `code` (null: does not answer them), then allocates. */
    const failingThenWell = (code: string | null, times: number) => {
      let failed = 0;
      subs.push(
        nc.subscribe(AllocateNumber.subject, {
          callback: (_err, m) => {
            if (failed++ < times) {
              if (code !== null) {
                m.respond(encodeJson({ ok: false, error: { code, message: 'it failed', retryable: true } }));
              }
              return;
            }
            m.respond(encodeJson({ ok: true, data: { virtualNumber: '+14155550199', country: 'US' } }));
          },
        }),
      );
    };

    it.each([
      ErrorCodes.DEPENDENCY_UNAVAILABLE,
      ErrorCodes.ABANDONED,
      ErrorCodes.RPC_TIMEOUT,
      ErrorCodes.RPC_UNAVAILABLE,
      ErrorCodes.CIRCUIT_OPEN,
    ])(
      'answered %s: the breaker stays closed, and the next call goes through once its dependency is back',
      async (code) => {
        const touchy = touchyClient(`dep-${code}`);
        failingThenWell(code, 8);
        for (let i = 0; i < 8; i++) {
          await expect(touchy.request(AllocateNumber, request())).rejects.toMatchObject({ code });
        }
        await expect(touchy.request(AllocateNumber, request())).resolves.toMatchObject({
          virtualNumber: '+14155550199',
        });
      },
    );

    it.each([
      ['answered INTERNAL (its own fault)', ErrorCodes.INTERNAL, ErrorCodes.INTERNAL],
      ['no answer in time', null, ErrorCodes.RPC_TIMEOUT],
    ])('%s: the breaker opens, and refuses the next call without asking', async (_name, code, seen) => {
      const touchy = touchyClient(`own-${String(code)}`, code === null ? 150 : 2000);
      failingThenWell(code, 8);
      for (let i = 0; i < 4; i++) {
        await expect(touchy.request(AllocateNumber, request())).rejects.toMatchObject({ code: seen });
      }
      await expect(touchy.request(AllocateNumber, request())).rejects.toMatchObject({
        code: ErrorCodes.CIRCUIT_OPEN,
      });
    });

    it('a call given a breaker scope opens that scope’s breaker only: the service’s own, and other scopes, stay closed', async () => {
      const touchy = touchyClient('scoped');
      // Unanswered for the slow tenant, answered for everyone else.
      subs.push(
        nc.subscribe(AllocateNumber.subject, {
          callback: (_err, m) => {
            const asked = decodeJson(m.data) as { scope: { accountId: string } };
            if (asked.scope.accountId === 'MASLOWSLOWSLOWSLOW01') return;
            m.respond(encodeJson({ ok: true, data: { virtualNumber: '+14155550199', country: 'US' } }));
          },
        }),
      );
      const slow = { ...request(), scope: { accountId: 'MASLOWSLOWSLOWSLOW01' } };
      for (let i = 0; i < 4; i++) {
        await expect(
          touchy.request(AllocateNumber, slow, { timeoutMs: 150, breakerScope: slow.scope.accountId }),
        ).rejects.toMatchObject({ code: ErrorCodes.RPC_TIMEOUT });
      }
      await expect(
        touchy.request(AllocateNumber, slow, { timeoutMs: 150, breakerScope: slow.scope.accountId }),
      ).rejects.toMatchObject({ code: ErrorCodes.CIRCUIT_OPEN });
      const r = request();
      await expect(
        touchy.request(AllocateNumber, r, { breakerScope: r.scope.accountId }),
      ).resolves.toMatchObject({ virtualNumber: '+14155550199' });
      await expect(touchy.request(AllocateNumber, request())).resolves.toMatchObject({
        virtualNumber: '+14155550199',
      });
    });

    it('nobody listening (a NATS node lost with the replicas on it): the breaker opens', async () => {
      const touchy = touchyClient('no-responders');
      for (let i = 0; i < 4; i++) {
        await expect(touchy.request(AllocateNumber, request())).rejects.toMatchObject({
          code: ErrorCodes.RPC_UNAVAILABLE,
        });
      }
      failingThenWell(null, 0); // back: it would answer now
      await expect(touchy.request(AllocateNumber, request())).rejects.toMatchObject({
        code: ErrorCodes.CIRCUIT_OPEN,
      });
    });
  });

  it('a request larger than NATS carries fails for good, said so, and opens no breaker for the service asked', async () => {
    // A contract of the test's own whose request may be any size.
    const Blob = defineRpc('pin-auth', 'pin-auth.test.blob.v1', z.object({ blob: z.string() }), z.object({}));
    const answered = answer(Blob.subject, {});
    const tooLarge = { blob: 'x'.repeat(2 * 1024 * 1024) };
    for (let i = 0; i < 30; i++) {
      await expect(client.request(Blob, tooLarge)).rejects.toMatchObject({
        code: ErrorCodes.NATS_REFUSED,
        retryable: false,
      });
    }
    await expect(client.request(Blob, { blob: 'small' })).resolves.toEqual({});
    expect(answered).toHaveLength(1);
  });
});
