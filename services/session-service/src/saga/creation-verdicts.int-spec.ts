import { randomUUID } from 'node:crypto';
import pino from 'pino';
import {
  ErrorCodes,
  NATS_KEY_MEMORY_BYTES,
  NATS_MEMORY_SHARES,
  NATS_STORAGE_SHARES,
} from '@maskline/contracts';
import { kvReplicasForSuite } from '@maskline/testing';
import {
  CREATION_RESERVATION_BUCKET,
  CREATION_VERDICT_BUCKET,
  CreationVerdicts,
  type VerdictReservation,
} from './creation-verdicts';

describe('creation verdicts across replicas (real NATS KV)', () => {
  const replicas = kvReplicasForSuite('session-service');

  /** One session-service process's verdicts. */
  async function replica(): Promise<CreationVerdicts> {
    const { kv } = await replicas.replica();
    return new CreationVerdicts(kv, pino({ level: 'silent' }));
  }

  it('racing creations and reapers of one session: whichever asks first decides, for every one of them', async () => {
    const racing = await Promise.all(Array.from({ length: 6 }, () => replica()));
    const sessionId = randomUUID();
    const answers = await Promise.all(
      racing.map((r, i) => r.decide(sessionId, i % 2 === 0 ? 'announced' : 'failed')),
    );
    expect(new Set(answers.map((a) => a.verdict)).size).toBe(1);
    expect(answers.filter((a) => a.taken)).toHaveLength(1);
    // Asked again, by either side, later: the same, taken by none of them.
    const late = await replica();
    const verdict = answers[0]!.verdict;
    expect(await late.decide(sessionId, 'announced')).toEqual({ verdict, taken: false });
    expect(await late.decide(sessionId, 'failed')).toEqual({ verdict, taken: false });
  });

  it('a creation that announced first keeps its session from the reaper; a reaper first fails the creation', async () => {
    const [creation, reaper] = [await replica(), await replica()];
    const announced = randomUUID();
    expect(await creation.decide(announced, 'announced')).toEqual({ verdict: 'announced', taken: true });
    expect(await reaper.decide(announced, 'failed')).toEqual({ verdict: 'announced', taken: false });
    const failed = randomUUID();
    expect(await reaper.decide(failed, 'failed')).toEqual({ verdict: 'failed', taken: true });
    expect(await creation.decide(failed, 'announced')).toEqual({ verdict: 'failed', taken: false });
  });
});

describe('creation verdicts when their room is full (real NATS KV)', () => {
  const replicas = kvReplicasForSuite('session-service');

  /** Verdicts on buckets bounded by `bound`, emptied first. */
  async function verdictsBounded(bound: { storageBytes?: number; memoryBytes?: number }) {
    const { kv, nc } = await replicas.replica(bound);
    const verdicts = new CreationVerdicts(kv, pino({ level: 'silent' }));
    const jsm = await nc.jetstreamManager();
    for (const bucket of [CREATION_RESERVATION_BUCKET, CREATION_VERDICT_BUCKET]) {
      await kv.bucket(bucket);
      await jsm.streams.purge(`KV_${bucket}`);
    }
    return verdicts;
  }

  /** Reserves room for creations until it is refused: the reservations taken. */
  async function fill(verdicts: CreationVerdicts): Promise<VerdictReservation[]> {
    const taken: VerdictReservation[] = [];
    for (;;) {
      const refused = await verdicts.reserve(randomUUID()).then(
        (reservation) => void taken.push(reservation),
        (err: unknown) => err,
      );
      if (refused) {
        expect(refused).toMatchObject({ code: ErrorCodes.DEPENDENCY_UNAVAILABLE, retryable: true });
        return taken;
      }
      if (taken.length > 500) throw new Error('the reservations never filled');
    }
  }

  /**
   * Every creation that reserved room has its verdict taken, by itself or by the reaper (and, for
   * some, by both at once: one wins), and a replay under its key later finds the same.
   */
  async function everyVerdictTaken(verdicts: CreationVerdicts, reserved: VerdictReservation[]) {
    const answers = await Promise.all(
      reserved.map(async ({ sessionId }, i) => {
        if (i % 3 === 0) return [await verdicts.decide(sessionId, 'announced')];
        if (i % 3 === 1) return [await verdicts.decide(sessionId, 'failed')];
        return Promise.all([verdicts.decide(sessionId, 'announced'), verdicts.decide(sessionId, 'failed')]);
      }),
    );
    for (const [i, answer] of answers.entries()) {
      expect(answer.filter((a) => a.taken)).toHaveLength(1);
      expect(new Set(answer.map((a) => a.verdict)).size).toBe(1);
      const { verdict } = answer[0]!;
      expect(await verdicts.decide(reserved[i]!.sessionId, 'announced')).toEqual({ verdict, taken: false });
    }
  }

  it('full in keys: a new creation is refused before it holds anything; every creation that reserved has its verdict taken', async () => {
    // Room for 30 creations: NATS_KEY_MEMORY_BYTES each of the reservations' share of the memory.
    const verdicts = await verdictsBounded({
      memoryBytes: (30 * NATS_KEY_MEMORY_BYTES * 100) / NATS_MEMORY_SHARES.creationReservations,
    });
    const reserved = await fill(verdicts);
    expect(reserved).toHaveLength(30);
    await everyVerdictTaken(verdicts, reserved);
    // A second round of as many (the first's reservations aged out and given room again, as two
    // hours later): the verdicts hold both rounds'.
    await (await replicas.replica()).nc
      .jetstreamManager()
      .then((jsm) => jsm.streams.purge(`KV_${CREATION_RESERVATION_BUCKET}`));
    const again = await fill(verdicts);
    expect(again).toHaveLength(30);
    await everyVerdictTaken(verdicts, again);
    // Still full: a new creation is refused its room.
    await expect(verdicts.reserve(randomUUID())).rejects.toMatchObject({
      code: ErrorCodes.DEPENDENCY_UNAVAILABLE,
    });
  });

  it('full in bytes: the same', async () => {
    // Room for a few dozen reservations: the reservations' share of the storage, a few KB.
    const verdicts = await verdictsBounded({
      storageBytes: Math.ceil((6_000 * 100) / NATS_STORAGE_SHARES.creationReservations),
    });
    const reserved = await fill(verdicts);
    expect(reserved.length).toBeGreaterThan(10);
    await everyVerdictTaken(verdicts, reserved);
    await (await replicas.replica()).nc
      .jetstreamManager()
      .then((jsm) => jsm.streams.purge(`KV_${CREATION_RESERVATION_BUCKET}`));
    await everyVerdictTaken(verdicts, await fill(verdicts));
  });

  it('a creation that gives its room back leaves room for the next', async () => {
    const verdicts = await verdictsBounded({
      memoryBytes: (5 * NATS_KEY_MEMORY_BYTES * 100) / NATS_MEMORY_SHARES.creationReservations,
    });
    const reserved = await fill(verdicts);
    await verdicts.withdraw(reserved[0]!);
    // Given back twice (a retry): nothing else goes.
    await verdicts.withdraw(reserved[0]!);
    const next = await verdicts.reserve(randomUUID());
    expect(await verdicts.decide(next.sessionId, 'announced')).toEqual({ verdict: 'announced', taken: true });
    await expect(verdicts.reserve(randomUUID())).rejects.toMatchObject({
      code: ErrorCodes.DEPENDENCY_UNAVAILABLE,
    });
  });
});
