import { drainInBatches } from './batch-drain';

describe('drainInBatches', () => {
  it('goes on while batches come back full, and stops at the first short one', async () => {
    const backlog = [3, 3, 2, 3];
    const step = jest.fn(async () => backlog.shift() ?? 0);
    expect(await drainInBatches(step, 3, 10)).toBe(8);
    expect(step).toHaveBeenCalledTimes(3);
  });

  it('stops after maxBatches however much is left', async () => {
    const step = jest.fn(async () => 5);
    expect(await drainInBatches(step, 5, 4)).toBe(20);
    expect(step).toHaveBeenCalledTimes(4);
  });
});
