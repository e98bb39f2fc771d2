import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import pino from 'pino';
import {
  DEFAULT_SESSION_SETTINGS,
  EVENT_EXTENSION_HEADER,
  STREAMS,
  SessionUpdated,
  type EventPayloadOf,
} from '@maskline/contracts';
import { MetricsService } from '@maskline/observability';
import { BreakerRegistry } from '@maskline/resilience';
import { expectEventually, startTestNats, type RunningProcess } from '@maskline/testing';
import { EventPublisher } from './event-publisher';
import { decodeJson, encodeJson } from './json-codec';
import type { MessagingOptions } from './messaging.options';
import { tailEvents, tailSubjects } from './event-tail';

describe('tailEvents (real NATS JetStream)', () => {
  let nats: RunningProcess;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await connect({ servers: nats.url });
    await (await nc.jetstreamManager()).streams.add({ name: 'TAIL_TEST', subjects: ['tail.>'] });
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('gives every replica every event from now on, in order, and goes on past a failing one', async () => {
    const js = nc.jetstream();
    await js.publish('tail.a', encodeJson({ n: -1 })); // before the tails: not seen
    const seen: Array<Array<number>> = [[], []];
    const errors: string[] = [];
    const tails = await Promise.all(
      seen.map((into) =>
        tailSubjects(nc, {
          stream: 'TAIL_TEST',
          filterSubjects: 'tail.>',
          onEvent: (_subject, payload) => {
            const n = (payload as { n: number }).n;
            if (n === 3) throw new Error('cannot apply 3');
            into.push(n);
          },
          onError: (err, subject) => errors.push(`${subject}: ${(err as Error).message}`),
        }),
      ),
    );
    try {
      for (let n = 0; n < 6; n++) await js.publish(n % 2 ? 'tail.b' : 'tail.a', encodeJson({ n }));
      await expectEventually(() =>
        expect(seen).toEqual([
          [0, 1, 2, 4, 5],
          [0, 1, 2, 4, 5],
        ]),
      );
      expect(errors).toEqual(['tail.b: cannot apply 3', 'tail.b: cannot apply 3']);
    } finally {
      for (const t of tails) t.stop();
    }
  });

  it('starts again from now, and says so, when its stream goes away and comes back', async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'TAIL_GONE', subjects: ['gone.>'] });
    const seen: number[] = [];
    const breaks: unknown[] = [];
    const tail = await tailSubjects(nc, {
      stream: 'TAIL_GONE',
      filterSubjects: 'gone.>',
      onEvent: (_subject, payload) => void seen.push((payload as { n: number }).n),
      onError: (err, subject) => {
        if (subject === undefined) breaks.push(err);
      },
    });
    try {
      await nc.jetstream().publish('gone.x', encodeJson({ n: 1 }));
      await expectEventually(() => expect(seen).toEqual([1]));
      await jsm.streams.delete('TAIL_GONE');
      await expectEventually(() => expect(breaks.length).toBeGreaterThan(0), { timeoutMs: 15_000 });
      await jsm.streams.add({ name: 'TAIL_GONE', subjects: ['gone.>'] });
      // Published until the restarted tail takes them (it starts from now, so some may go unseen).
      await expectEventually(
        async () => {
          await nc.jetstream().publish('gone.x', encodeJson({ n: 2 }));
          expect(seen).toContain(2);
        },
        { timeoutMs: 15_000 },
      );
    } finally {
      tail.stop();
    }
  });

  it('carries fields added since the previous release in a header: that release reads the body strictly, this one gets them back typed', async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: STREAMS.MASKLINE_EVENTS.name, subjects: ['events.>'] });
    const options = {
      service: 'session-service',
      rpcTimeoutMs: 2000,
      breaker: {},
    } as unknown as MessagingOptions;
    const publisher = new EventPublisher(
      nc,
      options,
      new BreakerRegistry(pino({ level: 'silent' }), new MetricsService('test')),
    );
    const heard: Array<EventPayloadOf<typeof SessionUpdated>> = [];
    const raw: Array<{ body: Record<string, unknown>; header: string | undefined }> = [];
    const typed = await tailEvents(nc, {
      events: [SessionUpdated],
      onEvent: ({ payload }) => void heard.push(payload),
      onError: (err) => {
        throw err;
      },
    });
    const bare = await nc.jetstream().consumers.get(STREAMS.MASKLINE_EVENTS.name, {
      filterSubjects: SessionUpdated.subject,
    });
    const messages = await bare.consume();
    void (async () => {
      for await (const m of messages) {
        raw.push({
          body: decodeJson(m.data) as Record<string, unknown>,
          header: m.headers?.get(EVENT_EXTENSION_HEADER),
        });
      }
    })();
    try {
      const sessionId = randomUUID();
      const base = {
        accountId: 'MAAAAAAAAAAAAAAAAAA1',
        subaccountId: null,
        sessionId,
        virtualNumber: '+14155550100',
        firstParty: '+14155551001',
        secondParty: '+14155551002',
        at: new Date().toISOString(),
      };
      const { at, ...identity } = base;
      const routing = {
        ...identity,
        status: 'active' as const,
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
        createdAt: at,
        modifiedAt: at,
        settings: DEFAULT_SESSION_SETTINGS,
      };
      await publisher.publish(SessionUpdated, { ...base, routing }, { msgId: `wire-test:${sessionId}` });
      await expectEventually(() => expect(heard).toHaveLength(1));
      expect(heard[0]).toEqual({ ...base, routing });
      await expectEventually(() => expect(raw).toHaveLength(1));
      expect(Object.keys(raw[0].body).sort()).toEqual(Object.keys(base).sort());
      expect(raw[0].header).toMatch(/^[A-Za-z0-9_-]+$/);
    } finally {
      typed.stop();
      messages.stop();
    }
  });

  it('goes on where it stopped when its consumer is lost and its stream is not: nothing published meanwhile is missed', async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'TAIL_RESUME', subjects: ['resume.>'] });
    const seen: number[] = [];
    const breaks: unknown[] = [];
    const tail = await tailSubjects(nc, {
      stream: 'TAIL_RESUME',
      filterSubjects: 'resume.>',
      onEvent: (_subject, payload) => void seen.push((payload as { n: number }).n),
      onError: (err, subject) => {
        if (subject === undefined) breaks.push(err);
      },
    });
    try {
      const js = nc.jetstream();
      await js.publish('resume.x', encodeJson({ n: 1 }));
      await expectEventually(() => expect(seen).toEqual([1]));
      for await (const c of await jsm.consumers.list('TAIL_RESUME')) {
        await jsm.consumers.delete('TAIL_RESUME', c.name);
      }
      await expectEventually(() => expect(breaks.length).toBeGreaterThan(0), { timeoutMs: 15_000 });
      // Published while the tail is down (it opens again a second after the break).
      await js.publish('resume.x', encodeJson({ n: 2 }));
      await js.publish('resume.x', encodeJson({ n: 3 }));
      await expectEventually(() => expect(seen).toEqual([1, 2, 3]), { timeoutMs: 15_000 });
      // Nothing missed: the break is reported once, not again as a restart from the stream's end.
      expect(breaks).toHaveLength(1);
      expect(await tail.caughtUp(5000)).toBe(true);
    } finally {
      tail.stop();
    }
  });

  it('says it has caught up only once it has handled every message on its subjects the stream held when asked', async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'TAIL_CAUGHT', subjects: ['caught.>'] });
    const js = nc.jetstream();
    await js.publish('caught.other', encodeJson({ n: 0 })); // before the tail, and not its subject
    const handled: number[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const tail = await tailSubjects(nc, {
      stream: 'TAIL_CAUGHT',
      filterSubjects: 'caught.mine.>',
      onEvent: async (_subject, payload) => {
        const n = (payload as { n: number }).n;
        if (n === 2) await held; // the view is slow to apply this one
        handled.push(n);
      },
      onError: (err) => {
        throw err;
      },
    });
    try {
      expect(await tail.caughtUp(5000)).toBe(true); // nothing on its subjects yet
      await js.publish('caught.mine.a', encodeJson({ n: 1 }));
      expect(await tail.caughtUp(5000)).toBe(true);
      expect(handled).toEqual([1]); // said only once handled
      await js.publish('caught.mine.b', encodeJson({ n: 2 }));
      await js.publish('caught.other', encodeJson({ n: 3 })); // later, not its subject: not waited for
      expect(await tail.caughtUp(300)).toBe(false); // 2 is still being applied
      const waiting = tail.caughtUp(10_000);
      release();
      expect(await waiting).toBe(true);
      expect(handled).toEqual([1, 2]);
    } finally {
      tail.stop();
    }
    // A stopped tail never says so.
    expect(await tail.caughtUp(5000)).toBe(false);
  });

  it('counts what the stream held before it started as handled (its view loads that from a snapshot)', async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'TAIL_BEFORE', subjects: ['before.>'] });
    await nc.jetstream().publish('before.x', encodeJson({ n: 1 }));
    const tail = await tailSubjects(nc, {
      stream: 'TAIL_BEFORE',
      filterSubjects: ['before.x', 'before.y'],
      onEvent: () => undefined,
      onError: (err) => {
        throw err;
      },
    });
    try {
      expect(await tail.caughtUp(5000)).toBe(true);
    } finally {
      tail.stop();
    }
  });
});
