import { TakenMessages } from './taken-messages';

describe('TakenMessages', () => {
  const KEEP_MS = 600_000;
  let now: number;
  let taken: TakenMessages;
  beforeEach(() => {
    now = Date.parse('2026-12-01T12:00:00Z');
    taken = new TakenMessages(() => now, KEEP_MS, 3);
  });

  it('takes a message once; a copy afterwards is answered without taking', async () => {
    const take = jest.fn(async () => undefined);
    expect(await taken.once('A', 'a', take)).toBe('taken');
    expect(await taken.once('A', 'a', take)).toBe('again');
    expect(await taken.once('A', 'b', take)).toBe('taken');
    expect(take).toHaveBeenCalledTimes(2);
  });

  it('copies that arrive while the first is under way wait for it and take nothing', async () => {
    let finish!: () => void;
    const first = jest.fn(() => new Promise<void>((resolve) => (finish = resolve)));
    const copy = jest.fn(async () => undefined);
    const answers = [
      taken.once('A', 'a', first),
      ...Array.from({ length: 50 }, () => taken.once('A', 'a', copy)),
    ];
    finish();
    expect(await Promise.all(answers)).toEqual(['taken', ...Array(50).fill('again')]);
    expect(first).toHaveBeenCalledTimes(1);
    expect(copy).not.toHaveBeenCalled();
  });

  it('a refusal is shared by the copies under way and remembered by nobody: the next copy tries again', async () => {
    const refusal = new Error('over the limit');
    let fail!: (err: Error) => void;
    const first = () => new Promise<void>((_, reject) => (fail = reject));
    const answers = [taken.once('A', 'a', first), taken.once('A', 'a', async () => undefined)];
    fail(refusal);
    await expect(answers[0]).rejects.toBe(refusal);
    await expect(answers[1]).rejects.toBe(refusal);
    const retry = jest.fn(async () => undefined);
    expect(await taken.once('A', 'a', retry)).toBe('taken');
    expect(retry).toHaveBeenCalledTimes(1);
  });

  it('forgets a message after the window, and the oldest first past its size', async () => {
    const take = jest.fn(async () => undefined);
    await taken.once('A', 'a', take);
    now += KEEP_MS;
    expect(await taken.once('A', 'a', take)).toBe('taken');
    for (const id of ['b', 'c', 'd']) await taken.once('A', id, take);
    // 'a' was the oldest of four, over the size of three.
    expect(await taken.once('A', 'a', take)).toBe('taken');
    expect(await taken.once('A', 'd', take)).toBe('again');
    expect(take).toHaveBeenCalledTimes(6);
  });

  it("one owner's texts push out its own oldest, never another owner's, however many it sends", async () => {
    const take = jest.fn(async () => undefined);
    expect(await taken.once('victim', 'v1', take)).toBe('taken');
    for (let i = 0; i < 100; i++) expect(await taken.once('tenant', `t${i}`, take)).toBe('taken');
    // The victim's text is still remembered: its replay spends nothing.
    expect(await taken.once('victim', 'v1', take)).toBe('again');
    // The other tenant's memory holds its newest (3 in all, less the victim's one).
    expect(await taken.once('tenant', 't99', take)).toBe('again');
    expect(await taken.once('tenant', 't98', take)).toBe('again');
    expect(await taken.once('tenant', 't97', take)).toBe('taken');
  });

  it('the same id under two owners is two messages', async () => {
    const take = jest.fn(async () => undefined);
    expect(await taken.once('A', 'm', take)).toBe('taken');
    expect(await taken.once('B', 'm', take)).toBe('taken');
    expect(await taken.once('A', 'm', take)).toBe('again');
  });

  it("a message past its window is forgotten when its owner's next is remembered", async () => {
    const take = jest.fn(async () => undefined);
    await taken.once('A', 'a', take);
    await taken.once('A', 'b', take);
    now += KEEP_MS;
    await taken.once('A', 'c', take);
    await taken.once('B', 'x', take);
    await taken.once('B', 'y', take);
    // A holds only 'c' (a and b expired and were dropped), so B's two fit beside it.
    expect(await taken.once('B', 'x', take)).toBe('again');
    expect(await taken.once('A', 'c', take)).toBe('again');
  });

  it('on a tie the owner remembering loses its own oldest', async () => {
    const take = jest.fn(async () => undefined);
    await taken.once('victim', 'v1', take);
    await taken.once('tenant', 't1', take);
    await taken.once('victim', 'v2', take);
    // Four over a size of three, two each: the tenant, remembering, loses t1.
    await taken.once('tenant', 't2', take);
    expect(await taken.once('victim', 'v1', take)).toBe('again');
    expect(await taken.once('victim', 'v2', take)).toBe('again');
    expect(await taken.once('tenant', 't1', take)).toBe('taken');
  });

  it("what has expired goes before anything in its window, whoever's it was", async () => {
    const take = jest.fn(async () => undefined);
    await taken.once('idle', 'old1', take);
    await taken.once('idle', 'old2', take);
    now += KEEP_MS;
    // The idle owner's two have expired: the busy one's three all fit.
    for (const id of ['b1', 'b2', 'b3']) await taken.once('busy', id, take);
    for (const id of ['b1', 'b2', 'b3']) expect(await taken.once('busy', id, take)).toBe('again');
  });

  it('answers as a plain model of the rule does, over random traffic of several owners', async () => {
    // The model: every remembering in order; the expired dropped; past the size, the oldest of the
    // owner holding the most (the one remembering, on a tie).
    const max = 7;
    let model: Array<{ owner: string; id: string; until: number }> = [];
    const modelOnce = (owner: string, id: string): 'taken' | 'again' => {
      model = model.filter((e) => e.until > now);
      if (model.some((e) => e.owner === owner && e.id === id)) return 'again';
      model.push({ owner, id, until: now + KEEP_MS });
      while (model.length > max) {
        const count = (o: string) => model.filter((e) => e.owner === o).length;
        let most = owner;
        for (const e of model) if (count(e.owner) > count(most)) most = e.owner;
        model.splice(
          model.findIndex((e) => e.owner === most),
          1,
        );
      }
      return 'taken';
    };
    const memory = new TakenMessages(() => now, KEEP_MS, max);
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor(seed / 65536) % n;
    };
    for (let i = 0; i < 5000; i++) {
      now += random(5) === 0 ? random(KEEP_MS / 4) : 0;
      const owner = `o${random(4)}`;
      const id = `m${random(12)}`;
      expect([i, await memory.once(owner, id, async () => undefined)]).toEqual([i, modelOnce(owner, id)]);
    }
  });
});
