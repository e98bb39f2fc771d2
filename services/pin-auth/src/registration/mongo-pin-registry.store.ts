import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { AccountScopedRepository, isDuplicateKeyError } from '@maskline/persistence';
import { LIVE, type InsertOutcome, type PinRegistration, type PinRegistryStore } from './pin-registration';
import { PinRegistrationDocument } from './pin-registration.schema';

@Injectable()
export class MongoPinRegistryStore
  extends AccountScopedRepository<PinRegistrationDocument>
  implements PinRegistryStore
{
  constructor(@InjectModel(PinRegistrationDocument.name) model: Model<PinRegistrationDocument>) {
    super(model);
  }

  /**
   * The unique index that refused the insert tells which rule broke: the digest (a clash) or the
   * slot (the cap). MongoDB names it (`keyPattern`); FerretDB does not, so then the store is asked
   * whether the digest is live (only on this failure path).
   */
  async insert(registration: PinRegistration): Promise<InsertOutcome> {
    try {
      await this.insertOne(registration);
      return 'inserted';
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      const keyPattern = (err as { keyPattern?: Record<string, unknown> }).keyPattern;
      if (keyPattern) return keyPattern.digest !== undefined ? 'digest-taken' : 'slot-taken';
      // The digest is unique across accounts, so the question is asked system-wide.
      const [live] = await this.systemWide.find(
        { digest: registration.digest, liveMarker: LIVE },
        { limit: 1 },
      );
      return live ? 'digest-taken' : 'slot-taken';
    }
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

  async retire(accountId: string, id: string, at: Date): Promise<void> {
    await this.updateOneScoped({ accountId, _id: id }, { $set: { liveMarker: id, retiredAt: at } });
  }

  /** The reaper's sweep, across accounts. Served by the `retiredAt` index. */
  async purgeRetiredSystemWide(olderThan: Date, limit: number): Promise<number> {
    const old = await this.systemWide.find({ retiredAt: { $ne: null, $lte: olderThan } }, { limit });
    return this.systemWide.deleteByIds(old.map((r) => r._id));
  }
}
