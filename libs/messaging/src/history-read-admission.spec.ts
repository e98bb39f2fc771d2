import pino from 'pino';
import { ErrorCodes } from '@maskline/contracts';
import { MetricsService } from '@maskline/observability';
import {
  HistoryReadAdmission,
  accountNamedBy,
  subaccountNamedBy,
  subaccountShareOf,
} from './history-read-admission';
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
  /** A replica's admission, with nothing held. */
  const newAdmission = () =>
    new HistoryReadAdmission(
      kvAway,
      {
        historyReads: { scan: { perAccount: 2, inFlight: 3 }, lookup: { perAccount: 3, inFlight: 4 } },
      } as MessagingOptions,
      pino({ level: 'silent' }),
      metrics,
    );
  const admission = newAdmission();
  const codeOf = (p: Promise<unknown>) =>
    p.then(
      () => 'admitted',
      (err: { code?: string }) => err.code,
    );

  it('counts on this replica under the same limits: a looser cap, never none, and never an error of its own', async () => {
    const a = [admission.pass('scan', 'MA1'), admission.pass('scan', 'MA1'), admission.pass('scan', 'MA1')];
    expect(await Promise.all(a.map((p) => codeOf(p.admit())))).toEqual([
      'admitted',
      'admitted',
      ErrorCodes.HISTORY_READS_LIMITED,
    ]);
    const b = admission.pass('scan', 'MA2');
    expect(await codeOf(b.admit())).toBe('admitted');
    expect(await codeOf(admission.pass('scan', 'MA3').admit())).toBe(ErrorCodes.HISTORY_READS_BUSY);
    // Admitting twice takes one slot; closing gives it back once.
    expect(await codeOf(b.admit())).toBe('admitted');
    await b.close();
    await b.close();
    expect(await codeOf(admission.pass('scan', 'MA3').admit())).toBe('admitted');
    await a[0]!.close();
    expect(await codeOf(admission.pass('scan', 'MA1').admit())).toBe('admitted');
    // Full again: 3 held (MA1 twice, MA3 once).
    expect(await codeOf(admission.pass('scan', 'MA4').admit())).toBe(ErrorCodes.HISTORY_READS_BUSY);
    expect(
      await metrics.registry.getSingleMetricAsString('maskline_history_read_admission_fallbacks_total'),
    ).toMatch(/ 5$/m);
  });

  it('counts lookups of one session apart from scans, each kind under its own limits', async () => {
    const admission = newAdmission();
    const scans = [admission.pass('scan', 'MB1'), admission.pass('scan', 'MB1')];
    for (const p of scans) expect(await codeOf(p.admit())).toBe('admitted');
    expect(await codeOf(admission.pass('scan', 'MB1').admit())).toBe(ErrorCodes.HISTORY_READS_LIMITED);
    // The account's scans are at their limit; its lookups are not.
    const lookups = [1, 2, 3].map(() => admission.pass('lookup', 'MB1'));
    expect(await Promise.all(lookups.map((p) => codeOf(p.admit())))).toEqual(Array(3).fill('admitted'));
    // Refused past its own limit, and told to try again sooner than a scan is (which holds its slot longer).
    const refusal = (kind: 'lookup' | 'scan') =>
      admission
        .pass(kind, 'MB1')
        .admit()
        .catch((err: { code: string; details?: { retryAfterSeconds?: number } }) => ({
          code: err.code,
          retryAfterSeconds: err.details?.retryAfterSeconds,
        }));
    expect(await refusal('lookup')).toEqual({ code: ErrorCodes.HISTORY_READS_LIMITED, retryAfterSeconds: 1 });
    expect(await refusal('scan')).toEqual({ code: ErrorCodes.HISTORY_READS_LIMITED, retryAfterSeconds: 10 });
    const other = admission.pass('lookup', 'MB2');
    expect(await codeOf(other.admit())).toBe('admitted');
    expect(await codeOf(admission.pass('lookup', 'MB3').admit())).toBe(ErrorCodes.HISTORY_READS_BUSY);
    await Promise.all([...scans, ...lookups, other].map((p) => p.close()));
    expect(await codeOf(admission.pass('lookup', 'MB3').admit())).toBe('admitted');
  });

  it('keys a request by its main account: the scope’s, else the one it names', () => {
    expect(accountNamedBy({ scope: { accountId: 'MA1', subaccountId: 'SA1' } })).toBe('MA1');
    expect(accountNamedBy({ accountId: 'MA2' })).toBe('MA2');
    expect(subaccountNamedBy({ scope: { accountId: 'MA1', subaccountId: 'SA1' } })).toBe('SA1');
    expect(subaccountNamedBy({ scope: { accountId: 'MA1' } })).toBeUndefined();
    expect(subaccountShareOf(4)).toBe(2);
    expect(subaccountShareOf(1)).toBe(1);
    expect(accountNamedBy({ sessionId: 'x' })).toBe('-');
    expect(accountNamedBy(null)).toBe('-');
  });
});
