import { portRange } from '../../../deploy/local/infra.cjs';

describe('the ports freePort chooses from', () => {
  const portsOf = (worker?: number) => {
    const { from, size } = portRange(worker);
    return { from, to: from + size - 1 };
  };

  it('are a slice of their own for each of four jest workers, below the ephemeral range', () => {
    const slices = [1, 2, 3, 4].map((w) => portsOf(w));
    for (const [i, a] of slices.entries()) {
      expect(a.from).toBeGreaterThanOrEqual(20000);
      expect(a.to).toBeLessThan(32768);
      expect(a.to - a.from).toBeGreaterThanOrEqual(2000);
      for (const b of slices.slice(i + 1)) expect(a.to < b.from || b.to < a.from).toBe(true);
    }
  });

  it('are the whole range outside jest, and a fifth worker shares the first’s', () => {
    expect(portsOf(Number.NaN)).toEqual({ from: 20000, to: 31999 });
    expect(portsOf(5)).toEqual(portsOf(1));
  });
});
