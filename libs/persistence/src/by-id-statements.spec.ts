import { ONE_STATEMENT_FROM, byIds, byIdsPerAccount } from './by-id-statements';

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
});
