import type { RoutingSession } from '@maskline/contracts';

type Settings = RoutingSession['settings'];

/**
 * Session settings kept once per distinct value (a frozen copy), named by a small integer id and
 * counted like InternedValues. Found by a quick hash of the values and told apart by comparing
 * keys and values in order, which costs a fraction of writing each view's settings out as a JSON
 * key (settings from the wire have their keys in the contract's order).
 */
export class InternedSettings {
  private readonly idsByHash = new Map<number, number[]>();
  private readonly values: Array<Settings | undefined> = [];
  /** Each one's keys and values in order, to compare a newcomer with. */
  private readonly entries: Array<{ keys: string[]; values: unknown[] } | undefined> = [];
  private readonly hashes: number[] = [];
  private readonly holders: number[] = [];
  private readonly freeIds: number[] = [];

  /** One more holder of these settings (the same keys and values: the same id); its id. */
  hold(settings: Settings): number {
    const values = Object.values(settings);
    const hash = valuesHash(values);
    const sameHash = this.idsByHash.get(hash);
    if (sameHash) {
      let keys: string[] | undefined;
      for (const id of sameHash) {
        const held = this.entries[id] as { keys: string[]; values: unknown[] };
        if (!sameList(held.values, values)) continue;
        keys ??= Object.keys(settings);
        if (!sameList(held.keys, keys)) continue;
        this.holders[id]++;
        return id;
      }
    }
    const id = this.freeIds.pop() ?? this.values.length;
    const copy = Object.freeze({ ...settings });
    this.values[id] = copy;
    this.entries[id] = { keys: Object.keys(copy), values: Object.values(copy) };
    this.hashes[id] = hash;
    this.holders[id] = 1;
    if (sameHash) sameHash.push(id);
    else this.idsByHash.set(hash, [id]);
    return id;
  }

  release(id: number): void {
    if (--this.holders[id] > 0) return;
    const sameHash = this.idsByHash.get(this.hashes[id]) as number[];
    if (sameHash.length === 1) this.idsByHash.delete(this.hashes[id]);
    else sameHash.splice(sameHash.indexOf(id), 1);
    this.values[id] = undefined;
    this.entries[id] = undefined;
    this.freeIds.push(id);
  }

  value(id: number): Settings {
    return this.values[id] as Settings;
  }
}

/**
 * A quick hash of the values: a string by its length and up to 16 of its characters, evenly
 * spaced from the end; a number by its integer part. Equal hashes are compared in full, so a
 * weak hash costs only time.
 */
function valuesHash(values: unknown[]): number {
  let h = 0x811c9dc5;
  for (const v of values) {
    let part: number;
    if (typeof v === 'string') {
      part = v.length;
      const step = Math.max(1, v.length >> 4);
      for (let i = v.length - 1; i >= 0; i -= step) part = Math.imul(part ^ v.charCodeAt(i), 0x01000193);
    } else if (typeof v === 'number') part = v | 0;
    else part = v === true ? -1 : v === false ? -2 : v === null ? -3 : -4;
    h = Math.imul(h ^ part, 0x01000193);
  }
  return h;
}

function sameList(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
