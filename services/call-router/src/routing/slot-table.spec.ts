import fc from 'fast-check';
import { EMPTY, SlotTable } from './slot-table';

/** Every entry the table holds, by walking from each entry's home cell as a lookup does. */
function finds(table: SlotTable, hashOf: (entry: number) => number, entry: number): boolean {
  for (let at = table.home(hashOf(entry)); table.entryAt(at) !== EMPTY; at = table.after(at)) {
    if (table.entryAt(at) === entry) return true;
  }
  return false;
}

describe('SlotTable', () => {
  it('finds exactly the entries added and not deleted, however much their hashes collide', () => {
    // A few home cells for many entries, some near the end of the table: long runs that wrap around.
    const hashOf = (entry: number) => [0, 1, 1023, 1022, 5][entry % 5];
    fc.assert(
      fc.property(
        fc.array(fc.record({ add: fc.boolean(), entry: fc.integer({ min: 0, max: 14 }) }), {
          maxLength: 200,
        }),
        (ops) => {
          const table = new SlotTable(hashOf);
          const held = new Set<number>();
          for (const { add, entry } of ops) {
            if (add && !held.has(entry)) {
              table.add(entry);
              held.add(entry);
            } else if (!add) {
              table.delete(entry);
              held.delete(entry);
            }
            for (let e = 0; e <= 14; e++) expect(finds(table, hashOf, e)).toBe(held.has(e));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps finding every entry as it grows', () => {
    const hashOf = (entry: number) => Math.imul(entry, 0x9e3779b1);
    const table = new SlotTable(hashOf);
    for (let e = 0; e < 5000; e++) table.add(e);
    for (let e = 0; e < 5000; e += 2) table.delete(e);
    for (let e = 0; e < 5000; e++) expect(finds(table, hashOf, e)).toBe(e % 2 === 1);
  });
});
