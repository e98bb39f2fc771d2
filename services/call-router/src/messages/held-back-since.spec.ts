import { HOLD_GAP_MS, HeldBackSince } from './held-back-since';

describe('how long a provider account has been held back, as a replica sees it', () => {
  it('counts from the first look that found it held back, through every look after', () => {
    const held = new HeldBackSince();
    expect(held.forMs('plivo|a', 1_000)).toBe(0);
    held.seen('plivo|a', 1_000);
    held.seen('plivo|a', 31_000);
    held.seen('plivo|a', 91_000);
    expect(held.forMs('plivo|a', 100_000)).toBe(99_000);
    // Another account's hold is its own.
    expect(held.forMs('plivo|b', 100_000)).toBe(0);
  });

  it('ends when it is over (its provider answered, its breaker closed again), and a later hold starts afresh', () => {
    const held = new HeldBackSince();
    held.seen('plivo|a', 1_000);
    held.over('plivo|a');
    expect(held.forMs('plivo|a', 50_000)).toBe(0);
    held.seen('plivo|a', 50_000);
    expect(held.forMs('plivo|a', 60_000)).toBe(10_000);
  });

  it('is forgotten when nothing looked for longer than a held text waits: seen again, a new hold', () => {
    const held = new HeldBackSince();
    held.seen('plivo|a', 0);
    expect(held.forMs('plivo|a', HOLD_GAP_MS)).toBe(HOLD_GAP_MS);
    expect(held.forMs('plivo|a', HOLD_GAP_MS + 1)).toBe(0);
    held.seen('plivo|a', HOLD_GAP_MS + 1);
    expect(held.forMs('plivo|a', HOLD_GAP_MS + 5_001)).toBe(5_000);
  });

  it('forgets the hold least lately seen past 10,000 accounts, never one still being looked at', () => {
    const held = new HeldBackSince();
    held.seen('plivo|oldest', 0);
    for (let i = 0; i < 9_999; i++) held.seen(`plivo|${i}`, 1_000);
    // The oldest hold, seen again: the one least lately seen is now another.
    held.seen('plivo|oldest', 2_000);
    held.seen('plivo|newest', 3_000);
    expect(held.forMs('plivo|oldest', 4_000)).toBe(4_000);
    expect(held.forMs('plivo|0', 4_000)).toBe(0);
    expect(held.forMs('plivo|1', 4_000)).toBe(3_000);
    expect(held.forMs('plivo|newest', 4_000)).toBe(1_000);
  });
});
