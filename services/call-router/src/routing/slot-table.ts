/**
 * A hash set of entries (small integers the index chooses: a session slot, or a slot and which
 * party), kept in one typed array with linear probing: no object per entry. Each cell holds the
 * entry and its full hash, so a lookup reads the records (wherever they are in memory) only of
 * entries whose hash is the one asked for: one place in the table, then, almost always, the one
 * record wanted. The index gives each entry's hash (`hashOf`, from its records) and tells a match
 * from a collision.
 *
 * Lookup: `for (let at = t.home(h); t.entryAt(at) !== EMPTY; at = t.after(at)) if (t.hashAt(at) === h) …`
 */
export const EMPTY = -1;

export class SlotTable {
  /** Cell c is [entry, hash] at 2c, 2c + 1. */
  private cells = new Int32Array(2 * 1024).fill(EMPTY);
  private mask = 1023;
  private count = 0;

  constructor(private readonly hashOf: (entry: number) => number) {}

  add(entry: number): void {
    // At most half full, so that runs of occupied cells stay short.
    if ((this.count + 1) * 2 > this.mask + 1) this.resize((this.mask + 1) * 2);
    this.place(entry, this.hashOf(entry));
    this.count++;
  }

  delete(entry: number): void {
    let at = this.home(this.hashOf(entry));
    while (this.cells[2 * at] !== entry) {
      if (this.cells[2 * at] === EMPTY) return;
      at = this.after(at);
    }
    // Backward-shift deletion: pull later entries of the run into the gap where their probe passes it.
    let gap = at;
    for (let next = this.after(gap); this.cells[2 * next] !== EMPTY; next = this.after(next)) {
      const home = this.home(this.cells[2 * next + 1]);
      const stays = gap <= next ? gap < home && home <= next : gap < home || home <= next;
      if (!stays) {
        this.cells[2 * gap] = this.cells[2 * next];
        this.cells[2 * gap + 1] = this.cells[2 * next + 1];
        gap = next;
      }
    }
    this.cells[2 * gap] = EMPTY;
    this.count--;
  }

  home(hash: number): number {
    return hash & this.mask;
  }

  after(at: number): number {
    return (at + 1) & this.mask;
  }

  entryAt(at: number): number {
    return this.cells[2 * at];
  }

  hashAt(at: number): number {
    return this.cells[2 * at + 1];
  }

  private place(entry: number, hash: number): void {
    let at = this.home(hash);
    while (this.cells[2 * at] !== EMPTY) at = this.after(at);
    this.cells[2 * at] = entry;
    this.cells[2 * at + 1] = hash;
  }

  private resize(size: number): void {
    const old = this.cells;
    this.cells = new Int32Array(2 * size).fill(EMPTY);
    this.mask = size - 1;
    for (let c = 0; c < old.length; c += 2) if (old[c] !== EMPTY) this.place(old[c], old[c + 1]);
  }
}

/** Mixes up to four 32-bit words into a well-spread 32-bit hash (murmur3's finaliser). */
export function mixHash(a: number, b: number, c = 0, d = 0): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ c, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16) ^ d, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}
