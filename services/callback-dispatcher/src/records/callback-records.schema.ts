import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';
import type { SealedRecordingUrl } from '../events/plivo-callback';

/** One try to deliver one callback: inserted, never changed. */
@Schema({ ...baseSchemaOptions, collection: 'callback_attempts', timestamps: false })
export class CallbackAttemptDocument {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) eventId!: string;
  @Prop({ type: String, required: true }) eventName!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: String, required: true }) sessionId!: string;
  @Prop({ type: String, required: true }) url!: string;
  @Prop({ type: String, required: true }) method!: 'GET' | 'POST';
  @Prop({ type: Number, required: true }) attempt!: number;
  @Prop({ type: Date, required: true }) at!: Date;
  @Prop({ type: String, required: true }) outcome!: 'delivered' | 'retry' | 'failed' | 'circuit-open';
  @Prop({ type: Number, default: null }) statusCode!: number | null;
  @Prop({ type: Number, default: null }) latencyMs!: number | null;
  @Prop({ type: String, default: null }) error!: string | null;
}
export const CallbackAttemptSchema = SchemaFactory.createForClass(CallbackAttemptDocument);
// Attempts API: a session's attempts in time order.
CallbackAttemptSchema.index({ accountId: 1, sessionId: 1, at: 1 });
// Callback statistics: an account's attempts since a time.
CallbackAttemptSchema.index({ accountId: 1, at: 1 });
// Retention purge.
CallbackAttemptSchema.index({ at: 1 });

/** A callback that could not be delivered, with everything needed to send it again. */
@Schema({ ...baseSchemaOptions, collection: 'dead_letters', timestamps: false })
export class DeadLetterDocument {
  /** The event id. */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  /** The session's subaccount (null: the main account's, or not known): a subaccount sees only its own. */
  @Prop({ type: String, default: null }) subaccountId!: string | null;
  @Prop({ type: String, required: true }) sessionId!: string;
  @Prop({ type: String, required: true }) eventName!: string;
  @Prop({ type: String, required: true, enum: ['session', 'recording'] }) target!: 'session' | 'recording';
  @Prop({ type: Object, required: true }) params!: Record<string, string>;
  /**
   * A recording callback's URL, sealed (`PlivoCallback.sealedRecordingUrl`): opened only for a
   * replay's attempts; removed with the parties' numbers.
   */
  @Prop({ type: Object }) sealedRecordingUrl?: SealedRecordingUrl;
  @Prop({ type: Number, required: true }) sequence!: number;
  @Prop({ type: String, required: true }) url!: string;
  @Prop({ type: String, required: true }) reason!: string;
  @Prop({ type: Number, required: true }) attempts!: number;
  /** When its callback first failed for good: its numbers' redaction and its retention count from it. */
  @Prop({ type: Date, required: true }) at!: Date;
  /**
   * When a replay of it last failed again (absent: none has, or an earlier version wrote it, which
   * moved `at` instead): each failure is replayable once (`replayIdOf`).
   */
  @Prop({ type: Date }) lastFailedAt?: Date;
  @Prop({ type: Date, default: null }) replayedAt!: Date | null;
  /** When the parties' numbers in `params` gave way to their digests (null: not yet, or kept). */
  @Prop({ type: Date, default: null }) redactedAt?: Date | null;
  /**
   * `params` with the parties' digests, written with the letter under the key `digestKeyId` names,
   * which redaction renames over `params`: one statement for every letter due. Removed by redaction
   * (a sweep of an earlier version leaves it); a letter an earlier version wrote has none.
   */
  @Prop({ type: Object }) redactedParams?: Record<string, string>;
  @Prop({ type: String }) digestKeyId?: string;
}
export const DeadLetterSchema = SchemaFactory.createForClass(DeadLetterDocument);
// Dead-letter API: an account's dead letters, newest first; a session's.
DeadLetterSchema.index({ accountId: 1, at: -1 });
DeadLetterSchema.index({ accountId: 1, sessionId: 1 });
// Dead-letter API for a subaccount: its own dead letters, newest first.
DeadLetterSchema.index({ accountId: 1, subaccountId: 1, at: -1 });
// Retention and redaction sweeps: dead letters by age.
DeadLetterSchema.index({ at: 1 });
