import type { KV, KvEntry } from 'nats';
import { kvDecode, kvEncode, readingLeaderAfterLostSets, type LeaderEntry } from './key-value-stores';

/** A bucket whose replica answers reads with an old revision while its leader holds a newer one. */
function laggingBucket() {
  const leader = { revision: 7, value: kvEncode({ n: 7 }) };
  const replicaReads: string[] = [];
  const leaderReads: string[] = [];
  const lost = Object.assign(new Error('wrong last sequence: 7'), { api_error: { err_code: 10071 } });
  const kv = {
    get: jest.fn(async (key: string) => {
      replicaReads.push(key);
      return { key, revision: 5, operation: 'PUT', value: kvEncode({ n: 5 }) } as KvEntry;
    }),
    update: jest.fn(async (_key: string, value: Uint8Array, version: number) => {
      if (version !== leader.revision) throw lost;
      leader.revision += 1;
      leader.value = value;
      return leader.revision;
    }),
    delete: jest.fn(async () => {
      throw lost;
    }),
    create: jest.fn(async () => {
      throw new Error('the client’s own create reads a replica');
    }),
    // The last message under every key exists (a live entry, or a delete's marker).
    put: jest.fn(async () => {
      throw lost;
    }),
    keys: jest.fn(),
  } as unknown as KV;
  const readLeader = async (key: string): Promise<LeaderEntry | null> => {
    leaderReads.push(key);
    if (key === 'gone') return null;
    if (key === 'released')
      return { operation: 'DEL', value: new Uint8Array(), revision: 9, created: new Date() };
    return { operation: 'PUT', value: leader.value, revision: leader.revision, created: new Date() };
  };
  return { kv: readingLeaderAfterLostSets('b', kv, readLeader), raw: kv, leader, replicaReads, leaderReads };
}

describe('readingLeaderAfterLostSets', () => {
  it('a get-then-set loop against a lagging replica wins its second round: the read after the loss is the leader’s', async () => {
    const { kv, leader, replicaReads, leaderReads } = laggingBucket();
    let rounds = 0;
    for (;;) {
      rounds++;
      const entry = await kv.get('k');
      const n = kvDecode<{ n: number }>(entry!.value)!.n;
      try {
        await kv.update('k', kvEncode({ n: n + 1 }), entry!.revision);
        break;
      } catch (err) {
        if (rounds > 3) throw err;
      }
    }
    expect(rounds).toBe(2);
    expect(kvDecode(leader.value)).toEqual({ n: 8 });
    expect(replicaReads).toEqual(['k']);
    expect(leaderReads).toEqual(['k']);
    // Won: the next read is the replica's again, as fast as before.
    await kv.get('k');
    expect(replicaReads).toEqual(['k', 'k']);
  });

  it('only the key whose set was lost is read at the leader, once, and the leader’s “nothing” is nothing', async () => {
    const { kv, replicaReads, leaderReads } = laggingBucket();
    await expect(kv.delete('gone', { previousSeq: 5 })).rejects.toMatchObject({
      api_error: { err_code: 10071 },
    });
    expect(await kv.get('other')).not.toBeNull();
    expect(await kv.get('gone')).toBeNull();
    const again = await kv.get('gone');
    expect(again?.revision).toBe(5);
    expect(replicaReads).toEqual(['other', 'gone']);
    expect(leaderReads).toEqual(['gone']);
  });

  it('creates a key over a delete the leader holds, whatever a replica says; a live key stays refused', async () => {
    const { kv, raw, leaderReads } = laggingBucket();
    (raw.update as jest.Mock).mockImplementation(async (_k: string, _v: Uint8Array, version: number) => {
      if (version !== 9)
        throw Object.assign(new Error('wrong last sequence'), { api_error: { err_code: 10071 } });
      return 10;
    });
    expect(await kv.create('released', kvEncode({ claim: 1 }))).toBe(10);
    await expect(kv.create('k', kvEncode({ claim: 2 }))).rejects.toMatchObject({
      api_error: { err_code: 10071 },
    });
    expect(leaderReads).toEqual(['released', 'k']);
    // The refused create's key is read at the leader next.
    await kv.get('k');
    expect(leaderReads).toEqual(['released', 'k', 'k']);
  });

  it('leaves everything else as it was', async () => {
    const { kv } = laggingBucket();
    expect(typeof kv.keys).toBe('function');
    const entry = await kv.get('k');
    expect(entry?.revision).toBe(5);
  });
});
