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

  it('leaves no hint that a claim refused meanwhile repaired from the hold while it was still live', async () => {
    const holds = new Set(['h1']);
    const key = '+14155550100|+16285550001';
    const hints = new Map<string, PairHint>([[key, { holdId: 'h1', allocationId: 'a1', blockedUntil: 0 }]]);
    const store = {
      retireHold: async (id: string) => {
        // Another session's claim of the pair, refused by the live hold, wrote its hint back first.
        hints.set(key, { holdId: id, allocationId: 'a1', blockedUntil: null });
        holds.delete(id);
      },
      clearPairHint: async (vn: string, party: string, id: string) => {
        if (hints.get(`${vn}|${party}`)?.holdId === id) hints.delete(`${vn}|${party}`);
      },
    } as unknown as HoldStore;
    await retireHolds(
      store,
      [{ _id: 'h1', virtualNumber: '+14155550100', party: '+16285550001' }],
      new Date(),
    );
    expect([...holds, ...hints.keys()]).toEqual([]);
  });
});
