import pino from 'pino';
import { CodedError, VirtualNumberChanged, type RpcContract } from '@maskline/contracts';
import type { RpcClient } from '@maskline/messaging';
import type { ExpiryScheduler } from '../expiry/expiry-scheduler';
import { NumberOwnerChangeConsumer } from './number-owner-change.consumer';
import type { SessionDocument } from './session.schema';
import type { SessionRepository } from './session.repository';

const NUMBER = '+14155550777';
const [SQUATTER, HOLDER] = ['MA00000000000000000S', 'MA00000000000000000H'];

function consumer(
  owner: string | null,
  live: Array<Pick<SessionDocument, '_id' | 'accountId' | 'subaccountId'>>,
  /** Sessions whose end cannot be stored now. */
  options: { failFor?: string[] } = {},
) {
  const ended: string[] = [];
  const asked: string[] = [];
  const sessions = { activeOnNumberSystemWide: async () => live } as unknown as SessionRepository;
  // As ExpiryScheduler.endNow: with `durably`, a write of the expiry that fails throws.
  const expiry = {
    endNow: async (_scope: unknown, sessionId: string, _reason: unknown, o: { durably?: boolean } = {}) => {
      if (options.failFor?.includes(sessionId) && o.durably) throw new Error('Timed out during socket read');
      ended.push(sessionId);
    },
  } as unknown as ExpiryScheduler;
  const rpc = {
    request: async (contract: RpcContract) => {
      asked.push(contract.subject);
      if (owner === null) throw CodedError.notFound('no such number');
      return { accountId: owner };
    },
  } as unknown as RpcClient;
  const c = new NumberOwnerChangeConsumer(sessions, expiry, rpc, pino({ enabled: false }));
  const deliver = (accountId: string) =>
    c.onNumberChanged({
      subject: VirtualNumberChanged.subject,
      payload: { accountId, number: NUMBER, at: new Date().toISOString() },
    });
  return { deliver, ended, asked };
}

const squatters = { _id: 'S-1', accountId: SQUATTER, subaccountId: null };
const holders = { _id: 'H-1', accountId: HOLDER, subaccountId: null };

describe('NumberOwnerChangeConsumer', () => {
  it('ends the sessions of an account that no longer owns the number, and none of the owner’s', async () => {
    const { deliver, ended } = consumer(HOLDER, [squatters, holders]);
    await deliver(HOLDER);
    expect(ended).toEqual(['S-1']);
  });

  it('ends nothing of the owner’s when an event naming the old owner is handled after the takeover (out of order, or replayed)', async () => {
    const { deliver, ended, asked } = consumer(HOLDER, [squatters, holders]);
    await deliver(SQUATTER);
    // The holder's session is another account's than the event names: number-pool is asked, says the
    // holder, and nothing ends (the squatter's is ended by the takeover's own event).
    expect(asked).toHaveLength(1);
    expect(ended).toEqual([]);
  });

  it('asks nobody when only the event’s account has sessions on the number (an owner’s own change)', async () => {
    const { deliver, ended, asked } = consumer(HOLDER, [holders]);
    await deliver(HOLDER);
    expect([ended, asked]).toEqual([[], []]);
  });

  it('ends nothing when no inventory holds the number any more', async () => {
    const { deliver, ended } = consumer(null, [squatters, holders]);
    await deliver(HOLDER);
    expect(ended).toEqual([]);
  });

  it('is retried, not acknowledged, when an end could not be stored; the other ends are not put off by it', async () => {
    const more = { _id: 'S-2', accountId: SQUATTER, subaccountId: null };
    const { deliver, ended } = consumer(HOLDER, [squatters, more, holders], { failFor: ['S-1'] });
    await expect(deliver(HOLDER)).rejects.toThrow('Timed out during socket read');
    expect(ended).toEqual(['S-2']);
  });
});
