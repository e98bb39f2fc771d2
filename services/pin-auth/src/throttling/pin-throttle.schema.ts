import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';

/**
 * One wrong PIN, as releases before 2026-12-07 recorded it (the throttle has counted in NATS KV since;
 * nothing reads these): written no more, purged past the horizon.
 */
@Schema({ ...baseSchemaOptions, collection: 'pin_failures', timestamps: false })
export class PinFailureDocument {
  @Prop({ type: String, required: true }) _id!: string;
  /** The called number's account (absent before 2026-12). */
  @Prop({ type: String, default: null }) accountId!: string | null;
  @Prop({ type: String, required: true }) virtualNumber!: string;
  @Prop({ type: String, required: true }) callerNumber!: string;
  @Prop({ type: Boolean, required: true }) callerRegistered!: boolean;
  @Prop({ type: String, required: true }) callId!: string;
  @Prop({ type: Date, required: true }) at!: Date;
}
export const PinFailureSchema = SchemaFactory.createForClass(PinFailureDocument);
// Per-caller window: a caller's failures since a time.
// Purge: failures older than the longest window.
PinFailureSchema.index({ at: 1 });

/** A lockout of a caller (from PIN entry on one account's numbers) or of a number (for unknown callers). */
@Schema({ ...baseSchemaOptions, collection: 'pin_lockouts', timestamps: false })
export class PinLockoutDocument {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true, enum: ['caller', 'number'] }) kind!: 'caller' | 'number';
  /** The account whose numbers it closes (a number's own account; null for a number's before 2026-12-07). */
  @Prop({ type: String, default: null }) accountId!: string | null;
  /** A caller's lockout on a subaccount's numbers: that subaccount (null: the main account's, or a number's). */
  @Prop({ type: String, default: null }) subaccountId!: string | null;
  /** The caller number or the virtual number. */
  @Prop({ type: String, required: true }) key!: string;
  /** 1 for the first lockout in a day; each further one doubles the duration. */
  @Prop({ type: Number, required: true }) level!: number;
  @Prop({ type: Date, required: true }) from!: Date;
  @Prop({ type: Date, required: true }) until!: Date;
}
export const PinLockoutSchema = SchemaFactory.createForClass(PinLockoutDocument);
// Is this caller / number locked, and how often lately: lockouts of a key by time.
PinLockoutSchema.index({ kind: 1, key: 1, until: 1 });
// Purge: lockouts long over.
PinLockoutSchema.index({ until: 1 });
