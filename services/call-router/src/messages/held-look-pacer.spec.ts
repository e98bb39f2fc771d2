import { HeldLookPacer } from './held-look-pacer';

/** Looks scheduled by second, from the waits given at `now`. */
function bySecond(now: number, waits: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const w of waits) {
    const second = Math.floor((now + w) / 1000);
    out.set(second, (out.get(second) ?? 0) + 1);
  }
  return out;
}

describe('HeldLookPacer', () => {
  // Not on a second: a look moved to a later second keeps its place within the second.
  const start = 1_700_000_000_123;

  it('leaves the waits of a backlog under its rate as they were, jitter and order included', () => {
    const pacer = new HeldLookPacer(200);
    // 3,000 texts, each looked at again 30–60 s from now: 100 a second.
    const asked = Array.from({ length: 3000 }, (_, i) => 30_000 + ((i * 7919) % 30_000));
    const given = asked.map((w, i) => pacer.waitFor('acct', w, start + i));
    expect(given).toEqual(asked);
  });

  it('spreads a flood of looks at one account over seconds of at most its rate, none sooner than asked', () => {
    const pacer = new HeldLookPacer(200);
    const waits = Array.from({ length: 10_000 }, () => pacer.waitFor('acct', 60_000, start));
    expect(Math.min(...waits)).toBe(60_000);
    // 10,000 at 200 a second: fifty seconds, from the one asked.
    expect(Math.max(...waits)).toBe(60_000 + 49_000);
    const counts = [...bySecond(start, waits).values()];
    expect(counts).toHaveLength(50);
    expect(counts.every((n) => n === 200)).toBe(true);
  });

  it('keeps every second of a long outage at most at its rate, and looks at every text of its backlog', () => {
    // 36,000 texts waiting out a provider that stays down half an hour, each looked at again 30–60 s
    // after its last look: unpaced, 800 looks a second.
    const pacer = new HeldLookPacer(200);
    let seed = 1;
    const jitter = () => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    const due: Array<{ at: number; text: number }> = [];
    for (let text = 0; text < 36_000; text++) due.push({ at: start + Math.floor(jitter() * 60_000), text });
    const lastLook = new Map<number, number>();
    const longestGap = { ms: 0 };
    const looks = new Map<number, number>();
    const end = start + 30 * 60_000;
    // Each look (in time order) asks its next: a queue by time, in buckets of a millisecond.
    due.sort((a, b) => a.at - b.at);
    const queue = new Map<number, number[]>();
    for (const d of due) queue.set(d.at, [...(queue.get(d.at) ?? []), d.text]);
    for (let now = start; now < end; now++) {
      const texts = queue.get(now);
      if (!texts) continue;
      queue.delete(now);
      for (const text of texts) {
        const second = Math.floor(now / 1000);
        looks.set(second, (looks.get(second) ?? 0) + 1);
        const previous = lastLook.get(text);
        if (previous !== undefined) longestGap.ms = Math.max(longestGap.ms, now - previous);
        lastLook.set(text, now);
        const wait = pacer.waitFor('acct', 30_000 + Math.floor(jitter() * 30_000), now);
        queue.set(now + wait, [...(queue.get(now + wait) ?? []), text]);
      }
    }
    // After the first minute (the texts' own first looks, unpaced), never more than 200 a second.
    const paced = [...looks].filter(([second]) => second * 1000 >= start + 60_000).map(([, n]) => n);
    expect(Math.max(...paced)).toBeLessThanOrEqual(200);
    // ...and the backlog cycles at about that pace: each text looked at within 36,000 / 200 s and a minute.
    expect(longestGap.ms).toBeLessThanOrEqual((36_000 / 200 + 60) * 1000);
    expect(lastLook.size).toBe(36_000);
  });

  it('never puts a look past the latest its caller allows, and counts it there all the same', () => {
    const pacer = new HeldLookPacer(200);
    const waits = Array.from({ length: 1000 }, () => pacer.waitFor('acct', 60_000, start, start + 61_500));
    expect(waits.filter((w) => w === 60_000)).toHaveLength(200);
    expect(waits.filter((w) => w === 61_000)).toHaveLength(200);
    expect(waits.filter((w) => w === 61_500)).toHaveLength(600);
    // Those 600 fill the second they were put in: the next look, with no bound, goes after it.
    expect(pacer.waitFor('acct', 60_000, start)).toBe(62_000);
    // A bound before the look is due leaves it as due.
    expect(pacer.waitFor('acct', 30_000, start, start + 10_000)).toBe(30_000);
  });

  it('puts a look due in a full second just before a run of full ones after the whole run, none sooner than asked', () => {
    const pacer = new HeldLookPacer(200);
    for (let i = 0; i < 2000; i++) pacer.waitFor('acct', 60_000, start); // 60–69 s full
    // Due a second before the run: room there, as due.
    const before = Array.from({ length: 200 }, () => pacer.waitFor('acct', 59_000, start));
    expect(before.every((w) => w === 59_000)).toBe(true);
    // That second full too: a look due in it goes past the whole run at once.
    expect(pacer.waitFor('acct', 59_000, start)).toBe(70_000);
    expect(pacer.waitFor('acct', 65_432, start)).toBe(70_432);
  });

  it('paces each account on its own: one account’s flood does not delay another’s looks', () => {
    const pacer = new HeldLookPacer(200);
    for (let i = 0; i < 5000; i++) pacer.waitFor('flooded', 60_000, start);
    expect(pacer.waitFor('other', 60_000, start)).toBe(60_000);
    expect(pacer.waitFor('other', 45_123, start)).toBe(45_123);
  });

  it('forgets what is past: an account’s schedule keeps only seconds to come, and at most 10,000 accounts', () => {
    const pacer = new HeldLookPacer(200);
    for (let i = 0; i < 20_000; i++) pacer.waitFor('acct', 60_000, start);
    expect(pacer.secondsKept('acct')).toBe(100);
    // Two hours on, a look finds the old schedule past: only its own second is kept, and it waits as asked.
    const later = start + 2 * 3600_000;
    expect(pacer.waitFor('acct', 60_000, later)).toBe(60_000);
    expect(pacer.secondsKept('acct')).toBe(1);
    for (let a = 0; a < 10_050; a++) pacer.waitFor(`a${a}`, 60_000, later);
    expect(pacer.size).toBe(10_000);
  });
});
