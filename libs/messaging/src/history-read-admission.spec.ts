import pino from 'pino';
import { ErrorCodes } from '@maskline/contracts';
import { MetricsService } from '@maskline/observability';
import { HistoryReadAdmission, accountNamedBy } from './history-read-admission';
import type { KeyValueStores } from './key-value-stores';
import type { MessagingOptions } from './messaging.options';

/** KV that cannot be asked (JetStream away): every bucket fails to open. */
const kvAway = {
  declare: () => undefined,
  bucket: async () => {
    throw Object.assign(new Error('503'), { code: '503' });
  },
} as unknown as KeyValueStores;

describe('HistoryReadAdmission while NATS KV cannot be asked', () => {
  const metrics = new MetricsService('test');
  const admission = new HistoryReadAdmission(
    kvAway,
    { historyReads: { perAccount: 2, inFlight: 3 } } as MessagingOptions,
    pino({ level: 'silent' }),
    metrics,
  );
  const codeOf = (p: Promise<unknown>) =>
    p.then(
      () => 'admitted',
      (err: { code?: string }) => err.code,
    );

  it('counts on this replica under the same limits: a looser cap, never none, and never an error of its own', async () => {
    const a = [admission.pass('MA1'), admission.pass('MA1'), admission.pass('MA1')];
    expect(await Promise.all(a.map((p) => codeOf(p.admit())))).toEqual([
      'admitted',
      'admitted',
      ErrorCodes.HISTORY_READS_LIMITED,
    ]);
    const b = admission.pass('MA2');
    expect(await codeOf(b.admit())).toBe('admitted');
    expect(await codeOf(admission.pass('MA3').admit())).toBe(ErrorCodes.HISTORY_READS_BUSY);
    // Admitting twice takes one slot; closing gives it back once.
    expect(await codeOf(b.admit())).toBe('admitted');
    await b.close();
    await b.close();
    expect(await codeOf(admission.pass('MA3').admit())).toBe('admitted');
    await a[0]!.close();
    expect(await codeOf(admission.pass('MA1').admit())).toBe('admitted');
    // Full again: 3 held (MA1 twice, MA3 once).
    expect(await codeOf(admission.pass('MA4').admit())).toBe(ErrorCodes.HISTORY_READS_BUSY);
    expect(
      await metrics.registry.getSingleMetricAsString('maskline_history_read_admission_fallbacks_total'),
    ).toMatch(/ 5$/m);
  });

  it('keys a request by its main account: the scope’s, else the one it names', () => {
    expect(accountNamedBy({ scope: { accountId: 'MA1', subaccountId: 'SA1' } })).toBe('MA1');
    expect(accountNamedBy({ accountId: 'MA2' })).toBe('MA2');
    expect(accountNamedBy({ sessionId: 'x' })).toBe('-');
    expect(accountNamedBy(null)).toBe('-');
  });
});
