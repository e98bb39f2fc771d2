import type { Model } from 'mongoose';
import { SessionErrorCodes } from '@maskline/contracts';
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
    findById: (id: string) => exec(rows.get(id) ?? null),
    deleteOne: (filter: { _id: string }) => exec(void rows.delete(filter._id)),
    deleteMany: (filter: Record<string, unknown> & { _id: string }) => {
      const row = rows.get(filter._id);
      const matches = row && Object.entries(filter).every(([k, v]) => row[k] === v);
      return exec({ deletedCount: matches && rows.delete(filter._id) ? 1 : 0 });
    },
  });
  return { rows, model: model as unknown as Model<IdempotencyKeyDocument> };
}

const MAIN = { accountId: 'MAAAAAAAAAAAAAAAAAA1' };
const SUB = { accountId: MAIN.accountId, subaccountId: 'SAAAAAAAAAAAAAAAAAA1' };
const idem = { key: 'order-1', requestHash: 'a'.repeat(64) };

describe('IdempotencyKeys', () => {
  it('gives a retry the session the first request made, and refuses another body under the key', async () => {
    const keys = new IdempotencyKeys(fakeModel().model);
    expect(await keys.claim(MAIN, idem, 's1')).toEqual({ kind: 'new', sessionId: 's1' });
    const again = await keys.claim(MAIN, idem, 's2');
    expect(again).toMatchObject({ kind: 'existing', sessionId: 's1' });
    expect(again.kind === 'existing' && Date.now() - again.claimedAt.getTime()).toBeLessThan(60_000);
    await expect(keys.claim(MAIN, { ...idem, requestHash: 'b'.repeat(64) }, 's3')).rejects.toMatchObject({
      code: SessionErrorCodes.IDEMPOTENCY_MISMATCH,
    });
  });

  it("keeps a subaccount's keys its own", async () => {
    const keys = new IdempotencyKeys(fakeModel().model);
    await keys.claim(MAIN, idem, 's1');
    expect(await keys.claim(SUB, idem, 's2')).toEqual({ kind: 'new', sessionId: 's2' });
  });

  it('honours and frees a key written by release 0.1.0 (no accountId on it)', async () => {
    const { model, rows } = fakeModel();
    rows.set(`${MAIN.accountId}:order-1`, {
      _id: `${MAIN.accountId}:order-1`,
      requestHash: idem.requestHash,
      sessionId: 'old',
    });
    const keys = new IdempotencyKeys(model);
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
    const keys = new IdempotencyKeys(model);
    await keys.claim(MAIN, idem, 's1');
    await keys.forget(MAIN, 'order-1', 's1'); // the retry found s1's creation dead and freed the key
    expect(await keys.claim(MAIN, idem, 's2')).toEqual({ kind: 'new', sessionId: 's2' });
    await keys.forget(MAIN, 'order-1', 's1'); // s1's creation fails at last
    expect(await keys.claim(MAIN, idem, 's3')).toMatchObject({ kind: 'existing', sessionId: 's2' });
    expect(rows.size).toBe(1);
  });

  it("never frees another account's key", async () => {
    const { model, rows } = fakeModel();
    const keys = new IdempotencyKeys(model);
    await keys.claim(MAIN, idem, 's1');
    await keys.forget({ accountId: 'MABBBBBBBBBBBBBBBBB2' }, 'order-1', 's1');
    expect(rows.size).toBe(1);
  });
});
