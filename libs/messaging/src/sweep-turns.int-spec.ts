import pino from 'pino';
import { connect, type NatsConnection } from 'nats';
import { startTestNats, type RunningProcess } from '@maskline/testing';
import { KeyValueStores } from './key-value-stores';
import type { MessagingOptions } from './messaging.options';
import { SweepTurns } from './sweep-turns';

describe('turns at a sweep shared by replicas (real NATS KV)', () => {
  let nats: RunningProcess;
  const connections: NatsConnection[] = [];

  beforeAll(async () => {
    nats = await startTestNats();
  });

  afterAll(async () => {
    await Promise.all(connections.filter((nc) => !nc.isClosed()).map((nc) => nc.close()));
    await nats?.stop();
  });

  async function replica(): Promise<SweepTurns> {
    const nc = await connect({ servers: nats.url });
    connections.push(nc);
    const kv = new KeyValueStores(
      nc,
      { service: 'session-service', servers: nats.url } as MessagingOptions,
      pino({ level: 'silent' }),
    );
    return new SweepTurns(kv);
  }

  it('gives each window to exactly one of the replicas asking at once, and the next window anew', async () => {
    let now = 1_000_000;
    const clock = () => now;
    const replicas = await Promise.all([replica(), replica(), replica()]);
    const takers = replicas.map((r) => r.turnsOf('test-sweep', 60_000, clock));

    const first = await Promise.all(takers.flatMap((take) => [take(), take()]));
    expect(first.filter(Boolean)).toHaveLength(1);

    now += 60_000;
    const second = await Promise.all(takers.map((take) => take()));
    expect(second.filter(Boolean)).toHaveLength(1);
    // Another task's turns are its own.
    expect(await replicas[0].turnsOf('other-sweep', 60_000, clock)()).toBe(true);
  });

  it('paces the runs: after a run of d, no replica gets a turn for nine times d, then turns go on', async () => {
    let now = 2_000_000_000;
    const clock = () => now;
    const replicas = await Promise.all([replica(), replica()]);
    const takers = replicas.map((r) => r.turnsOf('paced-sweep', 60_000, clock));

    expect((await Promise.all(takers.map((take) => take()))).filter(Boolean)).toHaveLength(1);
    // The run took five windows (a sweep over a large history on FerretDB).
    now += 300_000;
    const ended = now;
    await takers[0]!.finished(300_000);

    // Windows come and go, but for 9 × 300 s after the run ended nobody sweeps.
    for (const after of [60_000, 1_200_000, 2_640_000]) {
      now = ended + after;
      expect(await Promise.all(takers.map((take) => take()))).toEqual([false, false]);
    }
    now = ended + 9 * 300_000 + 1;
    expect((await Promise.all(takers.map((take) => take()))).filter(Boolean)).toHaveLength(1);
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
  });

  it('takes the turn when KV cannot be asked: the work is idempotent, skipping it is not', async () => {
    const turns = await replica();
    await connections.at(-1)?.close();
    expect(await turns.turnsOf('test-sweep', 60_000, () => 5_000_000)()).toBe(true);
  });
});
