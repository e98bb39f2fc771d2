/**
 * Values many sessions share (a virtual number, an account, a settings profile), each kept once
 * and named by a small integer id; counted, so that the last session to let go frees the value
 * and its id is used again.
 */
export class InternedValues<T> {
  private readonly idByKey = new Map<string, number>();
  private readonly keys: Array<string | undefined> = [];
  private readonly values: Array<T | undefined> = [];
  private readonly holders: number[] = [];
  private readonly freeIds: number[] = [];

  /** One more holder of the value with this key (made by `make` the first time); its id. */
  hold(key: string, make: () => T): number {
    const known = this.idByKey.get(key);
    if (known !== undefined) {
      this.holders[known]++;
      return known;
    }
    const id = this.freeIds.pop() ?? this.values.length;
    this.idByKey.set(key, id);
    this.keys[id] = key;
    this.values[id] = make();
    this.holders[id] = 1;
    return id;
  }

  release(id: number): void {
    if (--this.holders[id] > 0) return;
    this.idByKey.delete(this.keys[id] as string);
    this.keys[id] = undefined;
    this.values[id] = undefined;
    this.freeIds.push(id);
  }

  value(id: number): T {
    return this.values[id] as T;
  }

  /** The id of a value some session holds, without holding it. */
  idOf(key: string): number | undefined {
    return this.idByKey.get(key);
  }
}
