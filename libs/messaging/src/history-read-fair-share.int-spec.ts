import pino from 'pino';
import { connect, type NatsConnection } from 'nats';
import { ErrorCodes } from '@maskline/contracts';
import { MetricsService } from '@maskline/observability';
import { startTestNats, type RunningProcess } from '@maskline/testing';
import { HistoryReadAdmission, historyReadsReservedForFirst } from './history-read-admission';
import { KeyValueStores } from './key-value-stores';
import type { MessagingOptions } from './messaging.options';

const PER_ACCOUNT = 4;
const IN_FLIGHT = 8;

describe('a share of the history read slots kept for accounts’ first reads (real NATS KV, two replicas)', () => {
  let nats: RunningProcess;
  const connections: NatsConnection[] = [];
  let replicas: HistoryReadAdmission[];

  beforeAll(async () => {
    // Its own server: the slots' bucket and its system-wide keys are not shared with other tests.
    nats = await startTestNats();
    replicas = [];
    for (let i = 0; i < 2; i++) {
      const nc = await connect({ servers: nats.url });
      connections.push(nc);
      const options = {
        service: 'session-service',
        servers: nats.url,
        historyReads: {
          scan: { perAccount: PER_ACCOUNT, inFlight: IN_FLIGHT },
          lookup: { perAccount: PER_ACCOUNT, inFlight: IN_FLIGHT },
        },
      } as MessagingOptions;
      const logger = pino({ level: 'silent' });
      replicas.push(
        new HistoryReadAdmission(
          new KeyValueStores(nc, options, logger),
          options,
          logger,
          new MetricsService('t'),
        ),
      );
    }
  });

  afterAll(async () => {
    await Promise.all(connections.map((nc) => nc.close()));
    await nats?.stop();
  });

  /** A pass admitted on alternate replicas: its outcome, and the pass to close later. */
  let turn = 0;
  async function read(accountId: string) {
    const pass = replicas[turn++ % 2]!.pass('scan', accountId);
    const outcome = await pass.admit().then(
      () => 'admitted',
      (err: { code?: string }) => err.code,
    );
    return { outcome, pass };
  }

  it('lets busy accounts fill the shared slots only, so other accounts can still read one at a time', async () => {
    const reserved = historyReadsReservedForFirst(IN_FLIGHT);
    expect(reserved).toBe(2);
    // Two busy accounts: the first holds its four, the second gets two more of the shared six.
    const busyA = [];
    for (let i = 0; i < PER_ACCOUNT; i++) busyA.push(await read('MABUSYA'));
    const busyB = [];
    for (let i = 0; i < PER_ACCOUNT; i++) busyB.push(await read('MABUSYB'));
    expect(busyA.map((r) => r.outcome)).toEqual(Array(PER_ACCOUNT).fill('admitted'));
    // Its first and second were shared slots; a third would take a reserved one, which a busy
    // account's third read may not.
    expect(busyB.map((r) => r.outcome)).toEqual([
      'admitted',
      'admitted',
      ErrorCodes.HISTORY_READS_BUSY,
      ErrorCodes.HISTORY_READS_BUSY,
    ]);

    // The shared slots are all held: two other accounts still get their first read each …
    const quiet1 = await read('MAQUIET1');
    const quiet2 = await read('MAQUIET2');
    expect([quiet1.outcome, quiet2.outcome]).toEqual(['admitted', 'admitted']);
    // … but not a second while they hold the first, and the reserve has room for two accounts only.
    expect((await read('MAQUIET1')).outcome).toBe(ErrorCodes.HISTORY_READS_BUSY);
    expect((await read('MAQUIET3')).outcome).toBe(ErrorCodes.HISTORY_READS_BUSY);

    // A busy account whose reads end gives its slots back: the next account's first read is admitted.
    await Promise.all(busyA.map((r) => r.pass.close()));
    const quiet3 = await read('MAQUIET3');
    expect(quiet3.outcome).toBe('admitted');
    // Refusals gave back what they took: with everything closed, an account again reads four at once.
    await Promise.all([...busyB, quiet1, quiet2, quiet3].map((r) => r.pass.close()));
    const again = [];
    for (let i = 0; i < PER_ACCOUNT; i++) again.push(await read('MABUSYA'));
    expect(again.map((r) => r.outcome)).toEqual(Array(PER_ACCOUNT).fill('admitted'));
    await Promise.all(again.map((r) => r.pass.close()));
  });

  it('never lets an account hold a reserved slot beside others, however its reads end and begin', async () => {
    // The shared six held: four by X, two by Y.
    const x = [];
    for (let i = 0; i < PER_ACCOUNT; i++) x.push(await read('MADRIFTX'));
    const y = [await read('MADRIFTY'), await read('MADRIFTY')];
    // Y's third: it holds two, so no reserved slot for it, though the reserve is free.
    expect((await read('MADRIFTY')).outcome).toBe(ErrorCodes.HISTORY_READS_BUSY);
    // Z, holding none, gets a reserved one …
    const z = await read('MADRIFTZ');
    expect(z.outcome).toBe('admitted');
    // … and, while it holds it, nothing more, even once shared slots are free again.
    await Promise.all(x.map((r) => r.pass.close()));
    expect((await read('MADRIFTZ')).outcome).toBe(ErrorCodes.HISTORY_READS_BUSY);
    // Its reserved read over, it reads from the shared slots like anyone.
    await z.pass.close();
    const next = [await read('MADRIFTZ'), await read('MADRIFTZ')];
    expect(next.map((r) => r.outcome)).toEqual(['admitted', 'admitted']);
    await Promise.all([...y, ...next].map((r) => r.pass.close()));
  });
});
