import { HISTORY_READ_TIMEOUT_MS } from '@maskline/contracts';
import { HISTORY_READ_COMMAND_TIMEOUT_MS, historyReadOptions } from './account-scoped.repository';

/** A model on a connection with this command deadline (none: undefined). */
const on = (timeoutMS?: number) => ({ db: { getClient: () => ({ options: { timeoutMS } }) } }) as never;

describe('historyReadOptions', () => {
  it('gives a history read a second less than its caller waits, or the connection’s deadline if that is shorter', () => {
    expect(historyReadOptions(on())).toEqual({ timeoutMS: HISTORY_READ_COMMAND_TIMEOUT_MS });
    expect(historyReadOptions(on(30_000))).toEqual({ timeoutMS: HISTORY_READ_COMMAND_TIMEOUT_MS });
    expect(historyReadOptions(on(500))).toEqual({ timeoutMS: 500 });
    expect(HISTORY_READ_COMMAND_TIMEOUT_MS).toBeLessThan(HISTORY_READ_TIMEOUT_MS);
  });
});
