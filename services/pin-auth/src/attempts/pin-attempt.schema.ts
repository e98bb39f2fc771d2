import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { PinAttemptOutcome } from '@maskline/contracts';
import { baseSchemaOptions } from '@maskline/persistence';

/**
 * One PIN entry, for the console's timelines and PIN security view: inserts only (its `_id` is the
 * call, outcome and attempt, so a retried write is a no-op), deleted after PIN_ATTEMPT_RETENTION_DAYS.
 * Never the digits; the caller as a keyed digest and a masked form.
 */
@Schema({ ...baseSchemaOptions, collection: 'pin_attempts', timestamps: false })
export class PinAttemptDocument {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: String, required: true }) virtualNumber!: string;
  @Prop({ type: String, required: true }) callerKey!: string;
  @Prop({ type: String, required: true }) callerMasked!: string;
  @Prop({ type: String, required: true }) callId!: string;
  @Prop({ type: String, required: true }) outcome!: PinAttemptOutcome;
  @Prop({ type: String, default: null }) lockReason!: 'call' | 'caller' | 'number' | null;
  @Prop({ type: Number, required: true }) attempt!: number;
  @Prop({ type: String, default: null }) sessionId!: string | null;
  @Prop({ type: Date, required: true }) at!: Date;
}
export const PinAttemptSchema = SchemaFactory.createForClass(PinAttemptDocument);
// A session's timeline: the entries that matched it, then the other entries of those calls.
PinAttemptSchema.index({ accountId: 1, sessionId: 1 });
PinAttemptSchema.index({ accountId: 1, callId: 1 });
// PIN security: an account's entries since a time.
PinAttemptSchema.index({ accountId: 1, at: 1 });
// Retention: entries older than the cutoff.
PinAttemptSchema.index({ at: 1 });
