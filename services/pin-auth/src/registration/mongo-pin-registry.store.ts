import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { isDuplicateKeyError } from '@maskline/persistence';
import { LIVE, type InsertOutcome, type PinRegistration, type PinRegistryStore } from './pin-registration';
import { PinRegistrationDocument } from './pin-registration.schema';

@Injectable()
export class MongoPinRegistryStore implements PinRegistryStore {
  constructor(
    @InjectModel(PinRegistrationDocument.name) private readonly model: Model<PinRegistrationDocument>,
  ) {}

  /**
   * The unique index that refused the insert tells which rule broke: the digest (a clash) or the
   * slot (the cap). MongoDB names it (`keyPattern`); FerretDB does not, so then the store is asked
   * whether the digest is live (only on this failure path).
   */
  async insert(registration: PinRegistration): Promise<InsertOutcome> {
    try {
      await this.model.create(registration);
      return 'inserted';
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      const keyPattern = (err as { keyPattern?: Record<string, unknown> }).keyPattern;
      if (keyPattern) return keyPattern.digest !== undefined ? 'digest-taken' : 'slot-taken';
      return (await this.liveByDigest(registration.digest)) ? 'digest-taken' : 'slot-taken';
    }
  }

  async liveForSession(sessionId: string): Promise<PinRegistration[]> {
    return (await this.model.find({ sessionId, liveMarker: LIVE }).lean().exec()) as PinRegistration[];
  }

  async liveForSessions(sessionIds: readonly string[]): Promise<PinRegistration[]> {
    return (await this.model
      .find({ sessionId: { $in: [...sessionIds] }, liveMarker: LIVE })
      .lean()
      .exec()) as PinRegistration[];
  }

  async liveByDigest(digest: string): Promise<PinRegistration | null> {
    return (await this.model.findOne({ digest, liveMarker: LIVE }).lean().exec()) as PinRegistration | null;
  }

  /** Served by the `live_slot` index (its prefix). */
  async liveSlots(virtualNumber: string, pinLength: number): Promise<number[]> {
    const rows = await this.model
      .find({ virtualNumber, pinLength, liveMarker: LIVE }, { slot: 1, _id: 0 })
      .lean()
      .exec();
    return rows.map((r) => r.slot);
  }

  async retire(id: string, at: Date): Promise<void> {
    await this.model.updateOne({ _id: id }, { $set: { liveMarker: id, retiredAt: at } }).exec();
  }

  async purgeRetired(olderThan: Date, limit: number): Promise<number> {
    const old = await this.model
      .find({ retiredAt: { $ne: null, $lte: olderThan } })
      .limit(limit)
      .lean()
      .exec();
    for (const r of old) await this.model.deleteOne({ _id: r._id }).exec();
    return old.length;
  }
}
