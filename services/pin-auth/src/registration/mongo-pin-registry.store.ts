import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import {
  AccountScopedRepository,
  STATEMENT_BATCH,
  StatementBatcher,
  isDuplicateKeyError,
  type ScopedKey,
} from '@maskline/persistence';
import { LIVE, type InsertOutcome, type PinRegistration, type PinRegistryStore } from './pin-registration';
import { PinRegistrationDocument } from './pin-registration.schema';

@Injectable()
export class MongoPinRegistryStore
  extends AccountScopedRepository<PinRegistrationDocument>
  implements PinRegistryStore
{
  private readonly retirements: StatementBatcher<ScopedKey>;

  constructor(@InjectModel(PinRegistrationDocument.name) model: Model<PinRegistrationDocument>) {
    super(model);
    this.retirements = new StatementBatcher<ScopedKey>(
      (keys) => this.deleteEachScoped(keys),
      STATEMENT_BATCH,
    );
  }

  /**
   * The unique index that refused the insert tells which rule broke: the digest (a clash) or the
   * slot (the cap). MongoDB names it (`keyPattern`); FerretDB does not, so then the store is asked
   * whether the digest is live (only on this failure path).
   */
  async insert(registration: PinRegistration): Promise<InsertOutcome> {
    const outcome = await this.insertRecord(registration);
    if (outcome !== 'duplicate') return outcome;
    return (await this.liveConflicting(registration)).some((r) => r.digest === registration.digest)
      ? 'digest-taken'
      : 'slot-taken';
  }

  /** The insert alone: 'duplicate' when a unique index refused it and the store did not say which. */
  async insertRecord(registration: PinRegistration): Promise<InsertOutcome | 'duplicate'> {
    try {
      await this.insertOne(registration);
      return 'inserted';
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      const keyPattern = (err as { keyPattern?: Record<string, unknown> }).keyPattern;
      if (keyPattern) return keyPattern.digest !== undefined ? 'digest-taken' : 'slot-taken';
      return 'duplicate';
    }
  }

  /**
   * The live records that hold this registration's digest or slot, across accounts (as the unique
   * indexes are). A scan on FerretDB: asked only when an insert was refused and KV cannot say why.
   */
  async liveConflicting(r: Pick<PinRegistration, 'digest' | 'virtualNumber' | 'pinLength' | 'slot'>) {
    return this.systemWide.find({
      liveMarker: LIVE,
      $or: [{ digest: r.digest }, { virtualNumber: r.virtualNumber, pinLength: r.pinLength, slot: r.slot }],
    });
  }

  /** Every live record, across accounts: read once, when the live KV bucket is first filled. */
  async liveSystemWide(): Promise<PinRegistration[]> {
    return this.systemWide.find({ liveMarker: LIVE });
  }

  /** Every live record's identity, across accounts: the stray sweep's read (a scan on FerretDB). */
  async liveIdentitiesSystemWide(): Promise<Array<Pick<PinRegistration, '_id' | 'accountId' | 'digest'>>> {
    return this.systemWide.find({ liveMarker: LIVE }, undefined, ['_id', 'accountId', 'digest']);
  }

  /** Of these records, those still live, across accounts. By `_id`. */
  async liveByIds(ids: readonly string[]): Promise<Array<Pick<PinRegistration, '_id' | 'accountId'>>> {
    if (ids.length === 0) return [];
    return this.systemWide.find({ _id: { $in: [...ids] }, liveMarker: LIVE }, undefined, [
      '_id',
      'accountId',
    ]);
  }

  /** Served by the session index. */
  async liveForSession(accountId: string, sessionId: string): Promise<PinRegistration[]> {
    return this.findScoped({ accountId, sessionId, liveMarker: LIVE });
  }

  async liveForSessions(accountId: string, sessionIds: readonly string[]): Promise<PinRegistration[]> {
    return this.findScoped({ accountId, sessionId: { $in: [...sessionIds] }, liveMarker: LIVE });
  }

  /** Served by the `live_digest` index. */
  async liveByDigest(accountId: string, digest: string): Promise<PinRegistration | null> {
    return this.findOneScoped({ accountId, digest, liveMarker: LIVE });
  }

  /** Served by the `live_slot` index (its prefix); across accounts, as the index is. */
  async liveSlotsOnNumber(virtualNumber: string, pinLength: number): Promise<number[]> {
    const rows = await this.systemWide.find({ virtualNumber, pinLength, liveMarker: LIVE }, undefined, [
      'slot',
    ]);
    return rows.map((r) => r.slot);
  }

  /** What this store finds is its record. */
  async recorded(_registrations: readonly PinRegistration[]): Promise<boolean> {
    return true;
  }

  /**
   * Ends a registration by deleting its record: nothing reads a retired one, and every filtered
   * write to this collection is a scan on FerretDB, so the collection holds what is live (it held
   * every PIN released in the last hour as well). The
   * sealed PIN goes with it. The retirements that arrive together go in one statement.
   */
  async retire(accountId: string, registration: Pick<PinRegistration, '_id'>, _at: Date): Promise<void> {
    await this.retirements.run({ accountId, _id: registration._id });
  }

  /** The reaper's purge of records an earlier version retired in place. Served by the `retiredAt` index. */
  async purgeRetiredSystemWide(olderThan: Date, limit: number): Promise<number> {
    const old = await this.systemWide.find({ retiredAt: { $ne: null, $lte: olderThan } }, { limit });
    return this.systemWide.deleteByIds(old.map((r) => r._id));
  }
}
