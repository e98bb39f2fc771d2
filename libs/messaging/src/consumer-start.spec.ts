import type { JetStreamManager } from 'nats';
import { NEW_CONSUMER_LOOKBACK_MS, newConsumerStart } from './consumer-start';

const NOW = Date.parse('2026-12-04T12:00:00Z');

/** A stream manager that knows these buckets' streams: their message count and oldest message's time. */
function managerOf(streams: Record<string, { messages: number; first_ts: string }>): JetStreamManager {
  return {
    streams: {
      info: async (name: string) => {
        const state = streams[name];
        if (!state) throw Object.assign(new Error('stream not found'), { api_error: { err_code: 10059 } });
        return { state };
      },
    },
  } as unknown as JetStreamManager;
}

describe('where a durable consumer made anew starts', () => {
  it('an hour back, when its once-records hold more than that, hold nothing, or are not made yet', async () => {
    const jsm = managerOf({
      KV_old: { messages: 3, first_ts: '2026-12-01T00:00:00Z' },
      KV_empty: { messages: 0, first_ts: '0001-01-01T00:00:00Z' },
    });
    expect(await newConsumerStart(jsm, ['old', 'empty', 'missing'], NOW)).toEqual(
      new Date(NOW - NEW_CONSUMER_LOOKBACK_MS),
    );
    expect(await newConsumerStart(jsm, [], NOW)).toEqual(new Date(NOW - NEW_CONSUMER_LOOKBACK_MS));
  });

  it('at the oldest record the latest-forgetting of its buckets still holds, when that is later', async () => {
    const jsm = managerOf({
      KV_claims: { messages: 10, first_ts: '2026-12-04T11:40:00Z' },
      KV_ledger: { messages: 10, first_ts: '2026-12-04T11:50:00Z' },
    });
    expect(await newConsumerStart(jsm, ['claims', 'ledger'], NOW)).toEqual(new Date('2026-12-04T11:50:00Z'));
  });

  it('a bucket that cannot be read stops the start (it is tried again), never a guess', async () => {
    const jsm = {
      streams: { info: async () => Promise.reject(new Error('timeout')) },
    } as unknown as JetStreamManager;
    await expect(newConsumerStart(jsm, ['claims'], NOW)).rejects.toThrow('timeout');
  });
});
