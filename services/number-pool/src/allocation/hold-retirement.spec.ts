import type { HoldStore, PairHint } from './hold-store.port';
import { retireHolds } from './hold-retirement';

describe('retiring holds', () => {
  it('leaves no hint behind a hold that is gone: a hint it could not clear keeps the hold to be retired again', async () => {
    const holds = new Set(['h1']);
    const hints = new Map<string, PairHint>([
      ['+14155550100|+16285550001', { holdId: 'h1', allocationId: 'a1', blockedUntil: 0 }],
    ]);
    let failures = 1;
    const store = {
      retireHold: async (id: string) => void holds.delete(id),
      clearPairHint: async (vn: string, party: string, id: string) => {
        if (failures-- > 0) throw new Error('KV timed out');
        if (hints.get(`${vn}|${party}`)?.holdId === id) hints.delete(`${vn}|${party}`);
      },
    } as unknown as HoldStore;
    const hold = { _id: 'h1', virtualNumber: '+14155550100', party: '+16285550001' };
    const at = new Date('2026-12-07T00:00:00Z');
    await expect(retireHolds(store, [hold], at)).rejects.toThrow('KV timed out');
    // Still in the store: the next run finds it and ends both.
    expect([...holds]).toEqual(['h1']);
    await retireHolds(store, [hold], at);
    expect([...holds, ...hints.keys()]).toEqual([]);
  });
});
