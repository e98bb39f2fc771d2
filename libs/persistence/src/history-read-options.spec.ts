import { HISTORY_READ_ANSWER_MS, HISTORY_READ_TIMEOUT_MS } from '@maskline/contracts';
import { runWithContext } from '@maskline/observability';
import { historyReadOptions } from './account-scoped.repository';

/** A model on a connection with this command deadline (none: undefined). */
const on = (timeoutMS?: number) => ({ db: { getClient: () => ({ options: { timeoutMS } }) } }) as never;

describe('historyReadOptions', () => {
  it('gives a history read a second less than its caller waits, or the connection’s deadline if that is shorter', () => {
    expect(historyReadOptions(on())).toEqual({ timeoutMS: HISTORY_READ_ANSWER_MS });
    expect(historyReadOptions(on(30_000))).toEqual({ timeoutMS: HISTORY_READ_ANSWER_MS });
    expect(historyReadOptions(on(500))).toEqual({ timeoutMS: 500 });
    expect(HISTORY_READ_ANSWER_MS).toBeLessThan(HISTORY_READ_TIMEOUT_MS);
  });

  it('gives each command of a request with a deadline only what the commands before it left', () => {
    const now = Date.now();
    jest.useFakeTimers({ now });
    try {
      runWithContext({ correlationId: 'c', deadline: now + 9_000 }, () => {
        expect(historyReadOptions(on(30_000))).toEqual({ timeoutMS: 9_000 });
        jest.setSystemTime(now + 6_500); // a first command took 6.5 s
        expect(historyReadOptions(on(30_000))).toEqual({ timeoutMS: 2_500 });
        expect(historyReadOptions(on(1_000))).toEqual({ timeoutMS: 1_000 });
        jest.setSystemTime(now + 9_400); // past the deadline: the next command fails at once
        expect(historyReadOptions(on(30_000))).toEqual({ timeoutMS: 1 });
      });
      // A read outside any request (a sweep's, an event handler's) keeps the whole of its deadline.
      expect(historyReadOptions(on())).toEqual({ timeoutMS: HISTORY_READ_ANSWER_MS });
    } finally {
      jest.useRealTimers();
    }
  });
});
