import { randomUUID } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { testStoreUrl, uniqueDbName } from '@maskline/testing';
import { AllocationFateDocument, AllocationFateSchema } from './allocation-fate.schema';
import { AllocationFates } from './allocation-fates.repository';

describe('an allocation’s fate, decided once (real store)', () => {
  let connection: Connection;
  let fates: AllocationFates;
  const ACCOUNT = 'MAFATEFATEFATEFATE01';

  beforeAll(async () => {
    connection = await mongoose
      .createConnection(testStoreUrl(), { dbName: uniqueDbName('allocation_fates') })
      .asPromise();
    const model = connection.model(AllocationFateDocument.name, AllocationFateSchema);
    await model.init();
    fates = new AllocationFates(model);
  });

  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it('the first decision wins; the same decision asked again holds (a reaper run whose release failed)', async () => {
    const reaped = randomUUID();
    expect(await fates.decide(ACCOUNT, reaped, 'reaped')).toBe(true);
    expect(await fates.decide(ACCOUNT, reaped, 'reaped')).toBe(true);
    expect(await fates.decide(ACCOUNT, reaped, 'kept')).toBe(false);

    const kept = randomUUID();
    expect(await fates.decide(ACCOUNT, kept, 'kept')).toBe(true);
    expect(await fates.decide(ACCOUNT, kept, 'reaped')).toBe(false);
  });

  it('another account’s decision is not this account’s: it holds neither way for it', async () => {
    const id = randomUUID();
    expect(await fates.decide('MAOTHEROTHEROTHER001', id, 'reaped')).toBe(true);
    expect(await fates.decide(ACCOUNT, id, 'reaped')).toBe(false);
    expect(await fates.decide(ACCOUNT, id, 'kept')).toBe(false);
  });
});
