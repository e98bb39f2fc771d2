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
    expect(await taken.once('a', take)).toBe('taken');
    expect(await taken.once('a', take)).toBe('again');
    expect(await taken.once('b', take)).toBe('taken');
    expect(take).toHaveBeenCalledTimes(2);
  });

  it('copies that arrive while the first is under way wait for it and take nothing', async () => {
    let finish!: () => void;
    const first = jest.fn(() => new Promise<void>((resolve) => (finish = resolve)));
    const copy = jest.fn(async () => undefined);
    const answers = [taken.once('a', first), ...Array.from({ length: 50 }, () => taken.once('a', copy))];
    finish();
    expect(await Promise.all(answers)).toEqual(['taken', ...Array(50).fill('again')]);
    expect(first).toHaveBeenCalledTimes(1);
    expect(copy).not.toHaveBeenCalled();
  });

  it('a refusal is shared by the copies under way and remembered by nobody: the next copy tries again', async () => {
    const refusal = new Error('over the limit');
    let fail!: (err: Error) => void;
    const first = () => new Promise<void>((_, reject) => (fail = reject));
    const answers = [taken.once('a', first), taken.once('a', async () => undefined)];
    fail(refusal);
    await expect(answers[0]).rejects.toBe(refusal);
    await expect(answers[1]).rejects.toBe(refusal);
    const retry = jest.fn(async () => undefined);
    expect(await taken.once('a', retry)).toBe('taken');
    expect(retry).toHaveBeenCalledTimes(1);
  });

  it('forgets a message after the window, and the oldest first past its size', async () => {
    const take = jest.fn(async () => undefined);
    await taken.once('a', take);
    now += KEEP_MS;
    expect(await taken.once('a', take)).toBe('taken');
    for (const id of ['b', 'c', 'd']) await taken.once(id, take);
    // 'a' was the oldest of four, over the size of three.
    expect(await taken.once('a', take)).toBe('taken');
    expect(await taken.once('d', take)).toBe('again');
    expect(take).toHaveBeenCalledTimes(6);
  });
});
