import { expectEventually, kvReplicasForSuite } from '@maskline/testing';
import { kvDecode } from './key-value-stores';
import { BATON_MS, SWEEP_TURNS_BUCKET, SweepTurns } from './sweep-turns';

describe('turns at a sweep shared by replicas (real NATS KV)', () => {
  const replicas = kvReplicasForSuite('session-service');

  async function replica(): Promise<SweepTurns> {
    const { kv } = await replicas.replica();
    return new SweepTurns(kv);
  }

  it('gives each window to exactly one of the replicas asking at once, and the next window anew', async () => {
    let now = 1_000_000;
    const clock = () => now;
    const replicas = await Promise.all([replica(), replica(), replica()]);
    const takers = replicas.map((r) => r.turnsOf('test-sweep', 60_000, clock));

    const first = await Promise.all(takers.flatMap((take) => [take(), take()]));
    expect(first.filter(Boolean)).toHaveLength(1);
    await takers[first.indexOf(true) >> 1]!.finished(10);

    now += 60_000;
    const second = await Promise.all(takers.map((take) => take()));
    expect(second.filter(Boolean)).toHaveLength(1);
    await takers[second.indexOf(true)]!.finished(10);
    // Another task's turns are its own.
    const other = replicas[0].turnsOf('other-sweep', 60_000, clock);
    expect(await other()).toBe(true);
    await other.finished(10);
  });

  it('paces the runs: after a run of d, no replica gets a turn for nine times d, then turns go on', async () => {
    let now = 2_000_000_000;
    const clock = () => now;
    const replicas = await Promise.all([replica(), replica()]);
    const takers = replicas.map((r) => r.turnsOf('paced-sweep', 60_000, clock));

    const first = await Promise.all(takers.map((take) => take()));
    expect(first.filter(Boolean)).toHaveLength(1);
    // The run took five windows (a sweep over a large history on FerretDB).
    now += 300_000;
    const ended = now;
    await takers[first.indexOf(true)]!.finished(300_000);

    // Windows come and go, but for 9 × 300 s after the run ended nobody sweeps.
    for (const after of [60_000, 1_200_000, 2_640_000]) {
      now = ended + after;
      expect(await Promise.all(takers.map((take) => take()))).toEqual([false, false]);
      expect(takers.map((take) => take.storeBusy())).toEqual([false, false]);
    }
    now = ended + 9 * 300_000 + 1;
    const next = await Promise.all(takers.map((take) => take()));
    expect(next.filter(Boolean)).toHaveLength(1);
    await takers[next.indexOf(true)]!.finished(1_000);
  });

  it('does not pace runs far shorter than a window', async () => {
    let now = 3_000_000_000;
    const clock = () => now;
    const take = (await replica()).turnsOf('quick-sweep', 60_000, clock);
    expect(await take()).toBe(true);
    now += 2_000;
    await take.finished(2_000);
    now += 60_000;
    expect(await take()).toBe(true);
    await take.finished(2_000);
  });

  it('runs one task at a time over the store: another waits for its next window while one runs', async () => {
    let now = 4_000_000_000;
    const clock = () => now;
    const [a, b] = await Promise.all([replica(), replica()]);
    const sessions = a.turnsOf('sessions-sweep', 60_000, clock);
    const callbacks = b.turnsOf('callbacks-sweep', 60_000, clock);
    const pins = b.turnsOf('pins-sweep', 10_000, clock);

    // Asked at once, one of the three gets the store.
    const asked = [sessions, callbacks, pins];
    const first = await Promise.all(asked.map((take) => take()));
    expect(first.filter(Boolean)).toHaveLength(1);
    const running = asked[first.indexOf(true)]!;
    await running.finished(0);
    // In the next window one runs, and the others ask while it does.
    now += 60_000;
    expect(await sessions()).toBe(true);
    expect(await Promise.all([callbacks(), pins()])).toEqual([false, false]);
    // Windows pass while the first run goes on: the others still wait.
    now += 120_000;
    expect(await Promise.all([callbacks(), pins()])).toEqual([false, false]);
    // Refused for the store (they ask again soon), not for their pace or window.
    expect([callbacks.storeBusy(), pins.storeBusy()]).toEqual([true, true]);
    now += 1_000;
    await sessions.finished(121_000);
    // Given back: the next to ask runs, and holds the store in its turn.
    expect(await pins()).toBe(true);
    expect(await callbacks()).toBe(false);
    now += 2_000;
    await pins.finished(2_000);
    expect(await callbacks()).toBe(true);
    await callbacks.finished(1_000);
  });

  it('takes the store back from a run that stopped renewing it (a replica killed mid-run) after BATON_MS', async () => {
    let now = 9_000_000_000;
    const clock = () => now;
    const [killed, survivor] = await Promise.all([replica(), replica()]);
    const dead = killed.turnsOf('killed-sweep', 60_000, clock);
    expect(await dead()).toBe(true);
    // Killed: it never gives the baton back, and (no time passing here) never renews it.
    const other = survivor.turnsOf('survivor-sweep', 60_000, clock);
    now += BATON_MS - 1_000;
    expect(await other()).toBe(false);
    now += 1_001;
    expect(await other()).toBe(true);
    await other.finished(1_000);
  });

  it('keeps the store while a run renews it, however long the run', async () => {
    jest.useFakeTimers({
      doNotFake: ['setTimeout', 'nextTick', 'setImmediate', 'queueMicrotask', 'performance', 'Date'],
    });
    try {
      let now = 9_500_000_000;
      const clock = () => now;
      const [a, b] = await Promise.all([replica(), replica()]);
      const long = a.turnsOf('long-sweep', 60_000, clock);
      const waiting = b.turnsOf('waiting-sweep', 60_000, clock);
      expect(await long()).toBe(true);
      const kv = await replicas.connections.at(-1)!.jetstream().views.kv(SWEEP_TURNS_BUCKET);
      const until = async () => kvDecode<{ until: number }>((await kv.get('store-baton'))!.value)!.until;
      for (let minute = 1; minute <= 5; minute++) {
        now += 60_000;
        jest.advanceTimersByTime(60_000); // the renewal
        await expectEventually(async () => expect(await until()).toBe(now + BATON_MS));
      }
      // Five minutes on, past the first lease: still held.
      expect(await waiting()).toBe(false);
      await long.finished(300_000);
      now += 60_000;
      expect(await waiting()).toBe(true);
      await waiting.finished(1_000);
    } finally {
      jest.useRealTimers();
    }
  });

  it('gives the store back for a turn that went unused, without pacing the task', async () => {
    let now = 9_900_000_000;
    const clock = () => now;
    const r = await replica();
    const unused = r.turnsOf('unused-sweep', 60_000, clock);
    const next = r.turnsOf('next-sweep', 60_000, clock);
    expect(await unused()).toBe(true);
    expect(await next()).toBe(false);
    await unused.release();
    now += 60_000;
    expect(await next()).toBe(true);
    await next.finished(1_000);
    expect(await unused()).toBe(true);
    await unused.finished(1_000);
  });

  it('takes the turn when KV cannot be asked: the work is idempotent, skipping it is not', async () => {
    const turns = await replica();
    await replicas.connections.at(-1)?.close();
    expect(await turns.turnsOf('test-sweep', 60_000, () => 5_000_000)()).toBe(true);
  });

  it('looks for a backlog once a window across replicas, and at every run of any replica while one is found', async () => {
    let now = 5_000_000_000;
    const clock = () => now;
    const [a, b] = [await replica(), await replica()];
    const looks = [
      a.backlogLook('legacy-look', 3_600_000, clock),
      b.backlogLook('legacy-look', 3_600_000, clock),
    ];

    // Asked at once by both: one of them looks this window, and finds none.
    const first = await Promise.all(looks.map((look) => look.due()));
    expect(first.filter(Boolean)).toHaveLength(1);
    await looks[first.indexOf(true)]!.found(false);
    expect(await looks[0]!.due()).toBe(false);
    expect(await looks[1]!.due()).toBe(false);

    // The next window: one looks and finds some; every run looks again, whichever replica's (the
    // sweep's turns go to either), until a look finds none.
    now += 3_600_000;
    expect(await looks[1]!.due()).toBe(true);
    await looks[1]!.found(true);
    expect(await looks[0]!.due()).toBe(true);
    expect(await looks[1]!.due()).toBe(true);
    await looks[0]!.found(false);
    expect(await looks[1]!.due()).toBe(false);
    expect(await looks[0]!.due()).toBe(false);
  });
});
