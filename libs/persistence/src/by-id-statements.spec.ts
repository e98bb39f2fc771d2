import { ONE_STATEMENT_FROM, byIds, byIdsPerAccount, guardedById, guardedIdOf } from './by-id-statements';

describe('statements on documents named by id (byIds)', () => {
  const ids = (n: number, prefix = 'id') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

  it('sends one statement per id while they are few, and sums what they count', async () => {
    const each = jest.fn(async (id: string) => (id === 'id-0' ? 0 : 1));
    const together = jest.fn(async () => 99);

    const counted = await byIds(ids(ONE_STATEMENT_FROM - 1), each, together);

    expect(each.mock.calls.map(([id]) => id)).toEqual(ids(ONE_STATEMENT_FROM - 1));
    expect(together).not.toHaveBeenCalled();
    expect(counted).toBe(ONE_STATEMENT_FROM - 2);
  });

  it('sends one statement naming them all from ONE_STATEMENT_FROM on', async () => {
    const each = jest.fn(async () => 1);
    const together = jest.fn(async (many: string[]) => many.length);

    expect(await byIds(ids(ONE_STATEMENT_FROM), each, together)).toBe(ONE_STATEMENT_FROM);

    expect(each).not.toHaveBeenCalled();
    expect(together).toHaveBeenCalledWith(ids(ONE_STATEMENT_FROM));
  });

  it('sends one statement per id however many there are where the store never gains by naming them together', async () => {
    const each = jest.fn(async () => 1);
    const together = jest.fn(async () => 0);

    expect(await byIds(ids(200), each, together, Number.POSITIVE_INFINITY)).toBe(200);
    expect(
      await byIdsPerAccount(
        ids(50).map((_id) => ({ accountId: 'A', _id })),
        each,
        together,
        Number.POSITIVE_INFINITY,
      ),
    ).toBe(50);

    expect(each).toHaveBeenCalledTimes(250);
    expect(together).not.toHaveBeenCalled();
  });

  it('sends nothing for no ids', async () => {
    const each = jest.fn(async () => 1);
    const together = jest.fn(async () => 1);
    expect(await byIds([], each, together)).toBe(0);
    expect(each).not.toHaveBeenCalled();
    expect(together).not.toHaveBeenCalled();
  });

  it('fails when any of the statements fails', async () => {
    const each = jest.fn(async (id: string) => {
      if (id === 'id-1') throw new Error('store away');
      return 1;
    });
    await expect(byIds(ids(3), each, async () => 0)).rejects.toThrow('store away');
  });

  it('per account: many of one account go in one statement naming that account, the few of another one by one', async () => {
    const many = ids(ONE_STATEMENT_FROM, 'a').map((_id) => ({ accountId: 'A', _id }));
    const few = ids(2, 'b').map((_id) => ({ accountId: 'B', _id }));
    const each = jest.fn(async (_key: { accountId: string; _id: string }) => 1);
    const together = jest.fn(async (_accountId: string, group: string[]) => group.length);

    const counted = await byIdsPerAccount([...few.slice(0, 1), ...many, ...few.slice(1)], each, together);

    expect(together).toHaveBeenCalledTimes(1);
    expect(together).toHaveBeenCalledWith('A', ids(ONE_STATEMENT_FROM, 'a'));
    expect(each.mock.calls.map(([key]) => key)).toEqual(few);
    expect(counted).toBe(ONE_STATEMENT_FROM + 2);
  });

  describe('guardedById', () => {
    const stored: Record<string, Record<string, unknown>> = {
      'h-1': { _id: 'h-1', accountId: 'A', state: 'open' },
      'h-2': { _id: 'h-2', accountId: 'B', state: 'open', note: null },
    };
    const store = (scans: boolean) => ({
      guardsHandedDown: jest.fn(async () => !scans),
      read: jest.fn(async (id: string) => stored[id] ?? null),
    });

    it('where the store scans, reads the document by id, checks its account, and sends the statement by id alone', async () => {
      const s = store(true);
      const statement = jest.fn(async () => 1);

      expect(await guardedById('h-1', { accountId: 'A' }, s, statement)).toBe(1);
      expect(statement).toHaveBeenCalledWith({ _id: 'h-1' });

      expect(await guardedById('h-2', { accountId: 'A' }, s, statement)).toBe(0);
      expect(await guardedById('gone', { accountId: 'A' }, s, statement)).toBe(0);
      expect(statement).toHaveBeenCalledTimes(1);
    });

    it('where the store scans, a guard on a field that can change (a state) goes in the statement, unread', async () => {
      const s = store(true);
      const statement = jest.fn(async () => 0);

      await guardedById('h-1', { accountId: 'A', state: 'open' }, s, statement);

      expect(statement).toHaveBeenCalledWith({ accountId: 'A', state: 'open', _id: 'h-1' });
      expect(s.read).not.toHaveBeenCalled();
    });

    it('refuses an id that is not a string (an operator would reach documents without the guard)', async () => {
      const statement = jest.fn(async () => 1);
      await expect(
        guardedById({ $ne: 'x' } as unknown as string, { accountId: 'A' }, store(true), statement),
      ).rejects.toThrow(TypeError);
      expect(statement).not.toHaveBeenCalled();
    });

    it('where the store has indexes, sends the guard in the statement, unread', async () => {
      const s = store(false);
      const statement = jest.fn(async () => 0);

      await guardedById('h-1', { accountId: 'B' }, s, statement);

      expect(statement).toHaveBeenCalledWith({ accountId: 'B', _id: 'h-1' });
      expect(s.read).not.toHaveBeenCalled();
    });

    it('with no guard, sends the statement by id alone, unread', async () => {
      const s = store(true);
      const statement = jest.fn(async () => 1);
      await guardedById('h-1', {}, s, statement);
      expect(statement).toHaveBeenCalledWith({ _id: 'h-1' });
      expect(s.read).not.toHaveBeenCalled();
    });
  });

  describe('guardedIdOf', () => {
    it('takes a string _id with fields of plain equal values', () => {
      expect(
        guardedIdOf({ _id: 's-1', accountId: 'A', status: 'active', n: 2, on: true, gone: null }),
      ).toEqual({
        id: 's-1',
        guard: { accountId: 'A', status: 'active', n: 2, on: true, gone: null },
      });
      expect(guardedIdOf({ accountId: 'A', _id: 's-1' })).toEqual({ id: 's-1', guard: { accountId: 'A' } });
    });

    it.each([
      ['no _id', { accountId: 'A' }],
      ['an _id operator', { _id: { $in: ['s-1'] }, accountId: 'A' }],
      ['an operator on a field', { _id: 's-1', expiresAt: { $lte: new Date() } }],
      ['a date', { _id: 's-1', at: new Date() }],
      ['a path into a sub-document', { _id: 's-1', 'proxy.serviceSid': 'KS1' }],
      ['a top-level operator', { _id: 's-1', $or: [{ a: 1 }] }],
      ['an undefined value', { _id: 's-1', serviceSid: undefined }],
    ])('leaves any other filter as it is: %s', (_, filter) => {
      expect(guardedIdOf(filter)).toBeUndefined();
    });
  });
});
