import { FairShares } from './fair-shares';

describe('FairShares', () => {
  it('holds values by owner and key, the same key under two owners being two entries', () => {
    const shares = new FairShares<number>(10);
    shares.set('a', 'k', 1);
    shares.set('b', 'k', 2);
    expect([shares.get('a', 'k'), shares.get('b', 'k'), shares.size]).toEqual([1, 2, 2]);
    expect(shares.delete('a', 'k')).toBe(true);
    expect(shares.delete('a', 'k')).toBe(false);
    expect([shares.get('a', 'k'), shares.size]).toEqual([undefined, 1]);
  });

  it('past its size, the owner holding the most loses its oldest, however much it adds', () => {
    const shares = new FairShares<number>(6);
    for (const k of ['1', '2']) shares.set('quiet', k, 0);
    for (let i = 0; i < 1000; i++) shares.set('loud', String(i), i);
    expect(shares.size).toBe(6);
    expect([shares.get('quiet', '1'), shares.get('quiet', '2')]).toEqual([0, 0]);
    // The loud owner keeps its newest four.
    expect([996, 997, 998, 999].map((i) => shares.get('loud', String(i)))).toEqual([996, 997, 998, 999]);
    expect(shares.get('loud', '995')).toBeUndefined();
  });

  it('on a tie the owner adding loses its own oldest; a key set again becomes its owner’s newest', () => {
    const shares = new FairShares<string>(4);
    shares.set('a', 'a1', 'x');
    shares.set('a', 'a2', 'x');
    shares.set('b', 'b1', 'x');
    shares.set('b', 'b2', 'x');
    shares.set('a', 'a1', 'y'); // a1 is now a's newest
    shares.set('a', 'a3', 'x'); // a: 3, b: 2 → a loses its oldest, a2
    expect([shares.get('a', 'a2'), shares.get('a', 'a1'), shares.get('a', 'a3')]).toEqual([
      undefined,
      'y',
      'x',
    ]);
    shares.set('b', 'b3', 'x'); // a: 2, b: 3 → b loses b1
    expect([shares.get('b', 'b1'), shares.get('b', 'b2'), shares.size]).toEqual([undefined, 'x', 4]);
  });

  it('tells which entries it dropped to make room (not those deleted or replaced), and forgets all on clear', () => {
    const dropped: string[] = [];
    const shares = new FairShares<string>(2, (owner, key) => dropped.push(`${owner}/${key}`));
    shares.set('a', 'a1', 'x');
    shares.set('a', 'a1', 'y');
    shares.set('b', 'b1', 'x');
    shares.delete('b', 'b1');
    shares.set('a', 'a2', 'x');
    shares.set('a', 'a3', 'x');
    expect(dropped).toStrictEqual(['a/a1']);
    shares.clear();
    expect([shares.size, shares.get('a', 'a2')]).toStrictEqual([0, undefined]);
    shares.set('b', 'b1', 'x');
    shares.set('b', 'b2', 'x');
    expect([shares.size, dropped.length]).toStrictEqual([2, 1]);
  });

  it('past as many owners as it holds, a new owner’s first entry stays and the first single one goes', () => {
    const shares = new FairShares<string>(3);
    for (const owner of ['a', 'b', 'c', 'd', 'e']) shares.set(owner, 'k', owner);
    expect(['a', 'b', 'c', 'd', 'e'].map((o) => shares.get(o, 'k'))).toStrictEqual([
      undefined,
      undefined,
      'c',
      'd',
      'e',
    ]);
    // An owner adding a second entry then holds the most, and pays with its own oldest.
    shares.set('e', 'k2', 'x');
    const held = [shares.get('c', 'k'), shares.get('d', 'k'), shares.get('e', 'k'), shares.get('e', 'k2')];
    expect(held).toStrictEqual(['c', 'd', undefined, 'x']);
  });
});
