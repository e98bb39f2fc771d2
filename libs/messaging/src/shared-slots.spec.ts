import type { KV, KvEntry } from 'nats';
import type { KeyValueStores } from './key-value-stores';
import { SharedSlots } from './shared-slots';

/** Just enough of a KV bucket for slots: get, create and update by revision (10071 on a stale one). */
class SlotsBucket {
  private readonly entries = new Map<string, { value: Uint8Array; revision: number }>();
  private revision = 0;
  /** Called after each read, with the key read (a test's hook to change a slot behind the reader). */
  afterGet: (key: string) => Promise<void> = async () => undefined;

  async get(key: string): Promise<KvEntry | null> {
    const e = this.entries.get(key);
    const found = e && ({ operation: 'PUT', value: e.value, revision: e.revision } as unknown as KvEntry);
    await this.afterGet(key);
    return found ?? null;
  }

  async create(key: string, value: Uint8Array): Promise<number> {
    if (this.entries.has(key)) throw stale();
    this.entries.set(key, { value, revision: ++this.revision });
    return this.revision;
  }

  /** A holder giving its slot back (as `release` does). */
  async free(key: string): Promise<void> {
    await this.update(key, new Uint8Array([0]), this.entries.get(key)!.revision);
  }

  async update(key: string, value: Uint8Array, revision: number): Promise<number> {
    if (this.entries.get(key)?.revision !== revision) throw stale();
    this.entries.set(key, { value, revision: ++this.revision });
    return this.revision;
  }
}

const stale = () => Object.assign(new Error('wrong last sequence'), { api_error: { err_code: 10071 } });

describe('SharedSlots', () => {
  const slotsOn = (bucket: SlotsBucket, limit: number) =>
    new SharedSlots(
      {
        declare: () => undefined,
        bucket: async () => bucket as unknown as KV,
      } as unknown as KeyValueStores,
      { bucket: 'b', limit, slotTtlMs: 60_000, onReleaseError: () => undefined, lookTwice: true },
    );

  it('finds a slot given back after its look went by it, all the others taken: no refusal below the limit', async () => {
    // Each look starts at a random slot: whichever it reads first is the one given back.
    for (let attempt = 0; attempt < 20; attempt++) {
      const bucket = new SlotsBucket();
      const slots = slotsOn(bucket, 4);
      for (let i = 0; i < 4; i++) expect(await slots.take('acct')).not.toBeNull();
      expect(await slots.take('acct')).toBeNull();
      // Right after the next look reads its first slot (taken), that slot's holder gives it back.
      let givenBack = false;
      bucket.afterGet = async (key) => {
        if (givenBack) return;
        givenBack = true;
        await bucket.free(key);
      };
      expect(await slots.take('acct')).not.toBeNull();
      // Now all four are taken again.
      bucket.afterGet = async () => undefined;
      expect(await slots.take('acct')).toBeNull();
    }
  });
});
