import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { expectEventually, kvReplicasForSuite } from '@maskline/testing';
import type { CallbackDispatcherConfig } from '../config/callback-dispatcher.config';
import { CallbackHostSlots } from './callback-host-slots';

const CONFIG = {
  // Two turns a host and 8 an account: 4 may wait for a host (`hostWaitersMax`).
  CALLBACK_PER_ACCOUNT_CONCURRENCY: 8,
  CALLBACK_PER_HOST_CONCURRENCY: 2,
  CALLBACK_CONNECT_TIMEOUT_MS: 1000,
  CALLBACK_TIMEOUT_MS: 1000,
} as CallbackDispatcherConfig;

/** Attempts that run until the test lets them finish, counting how many run at once. */
function attempts() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  let running = 0;
  let most = 0;
  let started = 0;
  const work = async () => {
    started++;
    running++;
    most = Math.max(most, running);
    await opened;
    running--;
    return 'sent';
  };
  return { open, work, started: () => started, most: () => most };
}

describe('callback attempts per host (real NATS KV)', () => {
  const replicas = kvReplicasForSuite('callback-dispatcher');

  async function replica() {
    const { kv } = await replicas.replica();
    return new CallbackHostSlots(kv, CONFIG, pino({ enabled: false }));
  }

  it('waits in this replica for a turn at a full host, up to its waiters, and refuses the rest at once', async () => {
    const slots = await replica();
    const host = `MAACCOUNT|${randomUUID()}.hooks.test`;
    const a = attempts();
    const runs = Array.from({ length: 7 }, () => slots.run(host, a.work));
    await expectEventually(() => expect(a.started()).toBe(2));
    // Two run, four wait here for their turn, the seventh is refused (it comes back later).
    expect(await runs[6]).toEqual({ admitted: false });
    a.open();
    const done = await Promise.all(runs.slice(0, 6));
    expect(done).toEqual(Array(6).fill({ admitted: true, value: 'sent' }));
    // Never more at once than the host's slots; each slot given back (two more fit at once).
    expect(a.most()).toBe(2);
    const again = attempts();
    again.open();
    expect(await Promise.all([slots.run(host, again.work), slots.run(host, again.work)])).toEqual([
      { admitted: true, value: 'sent' },
      { admitted: true, value: 'sent' },
    ]);
  });

  it("holds the cap across replicas: another replica's attempts are refused while this one's hold every slot", async () => {
    const [first, second] = [await replica(), await replica()];
    const host = `MAACCOUNT|${randomUUID()}.hooks.test`;
    const a = attempts();
    const held = [first.run(host, a.work), first.run(host, a.work)];
    await expectEventually(() => expect(a.started()).toBe(2));
    expect(await second.run(host, async () => 'sent')).toEqual({ admitted: false });
    a.open();
    await Promise.all(held);
    expect(await second.run(host, async () => 'sent')).toEqual({ admitted: true, value: 'sent' });
  });
});
