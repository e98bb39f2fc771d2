import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';

/** See `hold.ts`. Written by inserts, and by updates and deletes by `_id` (a UUID never reused), batched. */
@Schema({ ...baseSchemaOptions, collection: 'holds', timestamps: false })
export class HoldDocument {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: String, required: true }) allocationId!: string;
  /**
   * Release 0.1.0's name for `allocationId`: written alongside it and read where it is missing,
   * while replicas of that release may share the store. Drop it in the release after next.
   */
  @Prop({ type: String }) sessionId?: string;
  @Prop({ type: String, required: true }) virtualNumber!: string;
  @Prop({ type: String, required: true }) party!: string;
  @Prop({ type: String, required: true }) liveMarker!: string;
  @Prop({ type: Number, required: true }) cooloffSeconds!: number;
  @Prop({ type: Date, required: true }) createdAt!: Date;
  @Prop({ type: Date, default: null }) releasedAt!: Date | null;
  @Prop({ type: Date, default: null }) blockedUntil!: Date | null;
  /** Set by earlier versions, which kept retired holds; read by the purge. Drop in the release after next. */
  @Prop({ type: Date, default: null }) retiredAt!: Date | null;
}

export const HoldSchema = SchemaFactory.createForClass(HoldDocument);
// The invariant: one live hold per (virtual number, party). Also answers the conflict slow path
// "the live hold of this pair", and "live sessions on a number" by its prefix.
HoldSchema.index({ virtualNumber: 1, party: 1, liveMarker: 1 }, { unique: true });
// The reaper: live holds whose cool-off has ended (by the prefix); the stray check: a page of
// active holds (blockedUntil null) after an _id, in _id order.
HoldSchema.index({ liveMarker: 1, blockedUntil: 1, _id: 1 });
// Utilization per account: its live holds.
HoldSchema.index({ accountId: 1, liveMarker: 1 });
// The purge: retired holds older than the retention.
HoldSchema.index({ retiredAt: 1 });
// Orphan checks: a session's holds.
HoldSchema.index({ allocationId: 1 });

/** Per session: its number and holds (idempotent retries; release by point lookups). */
@Schema({ ...baseSchemaOptions, collection: 'allocations', timestamps: false })
export class AllocationDocument {
  /** The session id. */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: String, required: true }) virtualNumber!: string;
  @Prop({ type: [String], required: true }) holdIds!: string[];
  @Prop({ type: [String], required: true }) parties!: string[];
  @Prop({ type: Number, required: true }) cooloffSeconds!: number;
  @Prop({ type: Date, default: null }) releasedAt!: Date | null;
  @Prop({ type: Date, required: true }) createdAt!: Date;
  /** The subaccount the number was allocated to (null: the main account; absent: an earlier release's). */
  @Prop({ type: String }) subaccountId?: string | null;
}

export const AllocationSchema = SchemaFactory.createForClass(AllocationDocument);
// Purge of released allocations: { releasedAt }.
AllocationSchema.index({ releasedAt: 1 });
