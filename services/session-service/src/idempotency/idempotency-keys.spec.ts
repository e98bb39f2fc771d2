import type { Model } from 'mongoose';
import { SessionErrorCodes } from '@maskline/contracts';
import type { FinishedIdempotencyKeys, FinishedKey } from './finished-idempotency-keys';
import type { IdempotencyKeyDocument } from './idempotency-key.schema';
import { IdempotencyKeys } from './idempotency-keys';

/** The little of a mongoose model the repository uses, over a map with a unique `_id`. */
function fakeModel(rows = new Map<string, Record<string, unknown>>()) {
  const exec = <T>(value: T) => ({ lean: () => ({ exec: async () => value }), exec: async () => value });
  /** A new document: what insertUnlessTaken builds before its batched insert. */
  function model(this: unknown, doc: Record<string, unknown>) {
    return { validate: async () => undefined, toBSON: () => ({ ...doc }) };
  }
  Object.assign(model, {
    collection: {
      insertMany: async (docs: Array<Record<string, unknown>>) => {
        const writeErrors: Array<{ index: number; code: number }> = [];
        docs.forEach((doc, index) => {
          if (rows.has(doc._id as string)) writeErrors.push({ index, code: 11000 });
          else rows.set(doc._id as string, { ...doc });
        });
        if (writeErrors.length > 0) throw Object.assign(new Error('dup'), { writeErrors });
      },
    },
    findById: (id: string) => {
      reads.count++;
      return exec(rows.get(id) ?? null);
    },
    deleteOne: (filter: { _id: string }) => exec(void rows.delete(filter._id)),
    deleteMany: (filter: Record<string, unknown> & { _id: string }) => {
      const row = rows.get(filter._id);
      const matches = row && Object.entries(filter).every(([k, v]) => row[k] === v);
      return exec({ deletedCount: matches && rows.delete(filter._id) ? 1 : 0 });
    },
  });
  const reads = { count: 0 };
  return { rows, reads, model: model as unknown as Model<IdempotencyKeyDocument> };
}

/** Finished keys over a map (NATS KV in the service); `unreadable` makes every read fail as NATS down would. */
function fakeFinished(entries = new Map<string, FinishedKey>()) {
  const state = { unreadable: false };
  const finished = {
    get: async (accountId: string, keyId: string) =>
      state.unreadable ? null : (entries.get(`${accountId}|${keyId}`) ?? null),
    remember: async (accountId: string, keyId: string, value: FinishedKey) =>
      void entries.set(`${accountId}|${keyId}`, value),
    forget: async (accountId: string, keyId: string, sessionId: string) => {
      if (entries.get(`${accountId}|${keyId}`)?.sessionId === sessionId)
        entries.delete(`${accountId}|${keyId}`);
    },
  } as unknown as FinishedIdempotencyKeys;
  return { finished, entries, state };
}

const keysOver = (model: Model<IdempotencyKeyDocument>) =>
  new IdempotencyKeys(model, fakeFinished().finished);

const MAIN = { accountId: 'MAAAAAAAAAAAAAAAAAA1' };
const SUB = { accountId: MAIN.accountId, subaccountId: 'SAAAAAAAAAAAAAAAAAA1' };
const idem = { key: 'order-1', requestHash: 'a'.repeat(64) };

describe('IdempotencyKeys', () => {
  it('gives a retry the session the first request made, and refuses another body under the key', async () => {
    const keys = keysOver(fakeModel().model);
    expect(await keys.claim(MAIN, idem, 's1')).toMatchObject({ kind: 'new', sessionId: 's1' });
    const again = await keys.claim(MAIN, idem, 's2');
    expect(again).toMatchObject({ kind: 'existing', sessionId: 's1' });
    expect(again.kind === 'existing' && Date.now() - again.claimedAt.getTime()).toBeLessThan(60_000);
    await expect(keys.claim(MAIN, { ...idem, requestHash: 'b'.repeat(64) }, 's3')).rejects.toMatchObject({
      code: SessionErrorCodes.IDEMPOTENCY_MISMATCH,
    });
  });

  it("keeps a subaccount's keys its own", async () => {
    const keys = keysOver(fakeModel().model);
    await keys.claim(MAIN, idem, 's1');
    expect(await keys.claim(SUB, idem, 's2')).toMatchObject({ kind: 'new', sessionId: 's2' });
  });

  it('honours and frees a key written by release 0.1.0 (no accountId on it)', async () => {
    const { model, rows } = fakeModel();
    rows.set(`${MAIN.accountId}:order-1`, {
      _id: `${MAIN.accountId}:order-1`,
      requestHash: idem.requestHash,
      sessionId: 'old',
    });
    const keys = keysOver(model);
    expect(await keys.claim(MAIN, idem, 's2')).toMatchObject({
      kind: 'existing',
      sessionId: 'old',
      claimedAt: new Date(0),
    });
    await keys.forget(MAIN, 'order-1', 'old');
    expect(rows.size).toBe(0);
  });

  it("frees a key only for the creation that holds it: a late failure leaves a retry's new claim alone", async () => {
    const { model, rows } = fakeModel();
    const keys = keysOver(model);
    await keys.claim(MAIN, idem, 's1');
    await keys.forget(MAIN, 'order-1', 's1'); // the retry found s1's creation dead and freed the key
    expect(await keys.claim(MAIN, idem, 's2')).toMatchObject({ kind: 'new', sessionId: 's2' });
    await keys.forget(MAIN, 'order-1', 's1'); // s1's creation fails at last
    expect(await keys.claim(MAIN, idem, 's3')).toMatchObject({ kind: 'existing', sessionId: 's2' });
    expect(rows.size).toBe(1);
  });

  it("never frees another account's key", async () => {
    const { model, rows } = fakeModel();
    const keys = keysOver(model);
    await keys.claim(MAIN, idem, 's1');
    await keys.forget({ accountId: 'MABBBBBBBBBBBBBBBBB2' }, 'order-1', 's1');
    expect(rows.size).toBe(1);
  });

  it('answers the retry of a finished creation without reading the store; another body is the store’s to refuse', async () => {
    const { model, reads, rows } = fakeModel();
    const memory = fakeFinished();
    const keys = new IdempotencyKeys(model, memory.finished);
    const first = await keys.claim(MAIN, idem, 's1');
    await keys.finished(MAIN, idem, first);
    expect(await keys.claim(MAIN, idem, 's2')).toEqual({
      kind: 'existing',
      sessionId: 's1',
      claimedAt: first.claimedAt,
    });
    expect(reads.count).toBe(0);
    await expect(keys.claim(MAIN, { ...idem, requestHash: 'b'.repeat(64) }, 's3')).rejects.toMatchObject({
      code: SessionErrorCodes.IDEMPOTENCY_MISMATCH,
    });
    // An entry left behind (its forget lost) names a session gone, and the key is another body's now.
    rows.clear();
    const other = { ...idem, requestHash: 'c'.repeat(64) };
    expect(await keys.claim(MAIN, other, 's5')).toMatchObject({ kind: 'new', sessionId: 's5' });
    expect(await keys.claim(MAIN, other, 's6')).toMatchObject({ kind: 'existing', sessionId: 's5' });
    // Another scope's finished key is not this one's.
    expect(await keys.claim(SUB, idem, 's4')).toMatchObject({ kind: 'new', sessionId: 's4' });
  });

  it('reads the store for a key not finished, or when the finished keys cannot be read', async () => {
    const { model, reads } = fakeModel();
    const memory = fakeFinished();
    const keys = new IdempotencyKeys(model, memory.finished);
    const first = await keys.claim(MAIN, idem, 's1');
    // Still being created: the store says whose the key is.
    expect(await keys.claim(MAIN, idem, 's2')).toMatchObject({ kind: 'existing', sessionId: 's1' });
    expect(reads.count).toBeGreaterThan(0);
    await keys.finished(MAIN, idem, first);
    memory.state.unreadable = true;
    const before = reads.count;
    expect(await keys.claim(MAIN, idem, 's3')).toMatchObject({ kind: 'existing', sessionId: 's1' });
    expect(reads.count).toBeGreaterThan(before);
  });

  it('forgets a finished key with its session (gone from the store), so a retry makes a new one', async () => {
    const { model } = fakeModel();
    const memory = fakeFinished();
    const keys = new IdempotencyKeys(model, memory.finished);
    await keys.finished(MAIN, idem, await keys.claim(MAIN, idem, 's1'));
    await keys.forget(MAIN, 'order-1', 's1');
    expect(memory.entries.size).toBe(0);
    expect(await keys.claim(MAIN, idem, 's2')).toMatchObject({ kind: 'new', sessionId: 's2' });
  });
});
