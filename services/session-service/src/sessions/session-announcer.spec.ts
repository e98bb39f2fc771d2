import { SessionUpdated } from '@maskline/contracts';
import type { EventPublisher } from '@maskline/messaging';
import { runWithContext } from '@maskline/observability';
import type { SessionServiceConfig } from '../config/session-service.config';
import { SessionAnnouncer, type NumberedSession } from './session-announcer';

const SESSION = {
  _id: 'sess-1',
  accountId: 'MA000000000000000001',
  subaccountId: null,
  firstParty: '+14155550101',
  secondParty: '+14155550102',
  virtualNumber: '+14155550199',
  allocationId: 'alloc-1',
  status: 'active',
  settings: {},
  createdAt: new Date('2026-12-01T00:00:00Z'),
  modifiedAt: new Date('2026-12-01T00:00:00Z'),
  expiresAt: new Date('2026-12-01T01:00:00Z'),
} as unknown as NumberedSession;

/** The announcer with a publisher that records how long each announcement may wait. */
function announcer() {
  const waits: Array<number | undefined> = [];
  const events = {
    publish: async (contract: unknown, _payload: unknown, options: { timeoutMs?: number }) => {
      expect(contract).toBe(SessionUpdated);
      waits.push(options.timeoutMs);
      return { seq: 1, duplicate: false };
    },
  } as unknown as EventPublisher;
  const config = { RPC_TIMEOUT_MS: 2000 } as SessionServiceConfig;
  return { subject: new SessionAnnouncer(events, config), waits };
}

describe("an API update's announcement", () => {
  const at = new Date();
  const within = (leftMs: number, fn: () => Promise<void>) =>
    runWithContext({ correlationId: 'c-1', deadline: Date.now() + leftMs }, fn);

  it('waits for the stream in what its request has left, less what its answer needs, up to 5 s', async () => {
    const { subject, waits } = announcer();
    await within(9000, () => subject.updatedInRequest(SESSION, at));
    await within(6000, () => subject.updatedInRequest(SESSION, at));
    expect(waits[0]).toBe(5000);
    // 6 s left, 3 s kept for the answer (allowing for the clock moving between the two reads).
    expect(waits[1]).toBeGreaterThan(2900);
    expect(waits[1]).toBeLessThanOrEqual(3000);
  });

  it('never less than the publisher’s default, even with little time left', async () => {
    const { subject, waits } = announcer();
    await within(1000, () => subject.updatedInRequest(SESSION, at));
    expect(waits).toEqual([2000]);
  });

  it('outside a request with a deadline: within a write request’s 8 s', async () => {
    const { subject, waits } = announcer();
    await subject.updatedInRequest(SESSION, at);
    expect(waits).toEqual([5000]);
  });
});
