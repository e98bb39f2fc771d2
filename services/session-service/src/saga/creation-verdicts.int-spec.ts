import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { ErrorCodes, NATS_KEY_MEMORY_BYTES, NATS_STORAGE_SHARES } from '@maskline/contracts';
import { kvReplicasForSuite } from '@maskline/testing';
import { CREATION_VERDICT_BUCKET, CreationVerdicts, type VerdictReservation } from './creation-verdicts';

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

describe('creation verdicts when their memory is full (real NATS KV)', () => {
  const replicas = kvReplicasForSuite('session-service');

  /** Verdicts on a bucket bounded by `bound`, emptied first. */
  async function verdictsBounded(bound: { storageBytes?: number; memoryBytes?: number }) {
    const { kv, nc } = await replicas.replica(bound);
    const verdicts = new CreationVerdicts(kv, pino({ level: 'silent' }));
    await kv.bucket(CREATION_VERDICT_BUCKET);
    await (await nc.jetstreamManager()).streams.purge(`KV_${CREATION_VERDICT_BUCKET}`);
    return verdicts;
  }

  /** Reserves room for creations until the bucket refuses one: the reservations it took. */
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
      if (taken.length > 500) throw new Error('the bucket never filled');
    }
  }

  /**
   * Every creation that reserved room has its verdict taken, by itself or by the reaper (and, for
   * some, by both at once: one wins), in a bucket that takes no new key.
   */
  async function everyVerdictTaken(verdicts: CreationVerdicts, reserved: VerdictReservation[]) {
    const answers = await Promise.all(
      reserved.map(async (reservation, i) => {
        const { sessionId } = reservation;
        if (i % 3 === 0) return [await verdicts.decide(sessionId, 'announced', reservation)];
        if (i % 3 === 1) return [await verdicts.decide(sessionId, 'failed')];
        return Promise.all([
          verdicts.decide(sessionId, 'announced', reservation),
          verdicts.decide(sessionId, 'failed'),
        ]);
      }),
    );
    for (const [i, answer] of answers.entries()) {
      expect(answer.filter((a) => a.taken)).toHaveLength(1);
      expect(new Set(answer.map((a) => a.verdict)).size).toBe(1);
      // Asked again later: the same.
      const { verdict } = answer[0]!;
      expect(await verdicts.decide(reserved[i]!.sessionId, 'failed')).toEqual({ verdict, taken: false });
    }
  }

  it('full in keys: a new creation is refused before it holds anything; every creation that reserved still has its verdict taken', async () => {
    // Room for 30 keys: 10 % of the memory at NATS_KEY_MEMORY_BYTES each.
    const verdicts = await verdictsBounded({ memoryBytes: 30 * NATS_KEY_MEMORY_BYTES * 10 });
    const reserved = await fill(verdicts);
    expect(reserved).toHaveLength(30);
    await everyVerdictTaken(verdicts, reserved);
    // Still full: a new creation is refused its room.
    await expect(verdicts.reserve(randomUUID())).rejects.toMatchObject({
      code: ErrorCodes.DEPENDENCY_UNAVAILABLE,
    });
  });

  it('full in bytes: the same (a verdict, with its revision, takes no more room than the placeholder it replaces)', async () => {
    // Room for a few dozen placeholders: the bucket's share of the storage, a few KB.
    const verdicts = await verdictsBounded({
      storageBytes: Math.ceil((6_000 * 100) / NATS_STORAGE_SHARES.creationVerdicts),
    });
    const reserved = await fill(verdicts);
    expect(reserved.length).toBeGreaterThan(10);
    await everyVerdictTaken(verdicts, reserved);
  });

  it('a creation that gives its room back leaves room for the next', async () => {
    const verdicts = await verdictsBounded({ memoryBytes: 5 * NATS_KEY_MEMORY_BYTES * 10 });
    const reserved = await fill(verdicts);
    await verdicts.withdraw(reserved[0]!);
    // Given back twice (a retry): nothing else goes.
    await verdicts.withdraw(reserved[0]!);
    const next = await verdicts.reserve(randomUUID());
    expect(await verdicts.decide(next.sessionId, 'announced', next)).toEqual({
      verdict: 'announced',
      taken: true,
    });
    expect(await verdicts.decide(reserved[1]!.sessionId, 'failed')).toEqual({
      verdict: 'failed',
      taken: true,
    });
  });
});
