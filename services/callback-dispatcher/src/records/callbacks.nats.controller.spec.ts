import type { EventPublisher } from '@maskline/messaging';
import type { CallbackAttempts } from './callback-attempts.repository';
import type { DeadLetters } from './dead-letters.repository';
import type { DeadLetterDocument } from './callback-records.schema';
import { CallbacksNatsController } from './callbacks.nats.controller';

const letter = (id: string): DeadLetterDocument => ({
  _id: id,
  accountId: 'MA000000000000000001',
  subaccountId: null,
  sessionId: '8a4ab0b2-7a9f-4c55-9d0c-4f1c2d8d1a11',
  eventName: 'SessionTimeout',
  target: 'session',
  params: {},
  sequence: 7,
  url: 'https://hooks.customer.test/cb',
  reason: 'HTTP 500',
  attempts: 9,
  at: new Date('2026-11-28T10:00:00Z'),
  replayedAt: null,
});

describe('dead-letter replay', () => {
  function controller(publish: () => Promise<unknown>) {
    const order: string[] = [];
    const msgIds: string[] = [];
    const records = {
      one: async (_scope: unknown, id: string) => letter(id),
      notReplayed: async () => [letter('evt-1'), letter('evt-2')],
      markReplayed: async (l: { _id: string }) => (order.push(`marked ${l._id}`), true),
    } as unknown as DeadLetters;
    const events = {
      publish: async (_c: unknown, payload: { eventId: string }, options: { msgId: string }) => {
        await publish();
        msgIds.push(options.msgId);
        order.push(`published ${payload.eventId}`);
      },
    } as unknown as EventPublisher;
    return {
      ctl: new CallbacksNatsController({} as CallbackAttempts, records, events, () => Date.now()),
      order,
      msgIds,
    };
  }

  it('marks a letter replayed only after its replay is on the stream', async () => {
    const { ctl, order } = controller(async () => undefined);
    await ctl.replay({ scope: { accountId: 'MA000000000000000001' } });
    expect(order).toEqual(['published evt-1', 'marked evt-1', 'published evt-2', 'marked evt-2']);
  });

  it('leaves the letter replayable when the publish fails', async () => {
    const { ctl, order } = controller(async () => {
      throw new Error('stream unavailable');
    });
    await expect(
      ctl.replay({ scope: { accountId: 'MA000000000000000001' }, eventId: 'evt-1' }),
    ).rejects.toThrow();
    expect(order).toEqual([]);
  });

  it('publishes one replay per dead-lettering, however often it is asked', async () => {
    const { ctl, msgIds } = controller(async () => undefined);
    await ctl.replay({ scope: { accountId: 'MA000000000000000001' }, eventId: 'evt-1' });
    await ctl.replay({ scope: { accountId: 'MA000000000000000001' }, eventId: 'evt-1' });
    expect(new Set(msgIds).size).toBe(1);
  });
});
