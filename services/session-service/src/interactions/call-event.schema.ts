import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { EncryptedSecret } from '@maskline/crypto';
import { baseSchemaOptions } from '@maskline/persistence';

/**
 * One step of one call through a session, or one message's outcome (step `message-relayed` or
 * `message-failed`, callId the inbound message's id). Interactions and totals are built from these
 * on read. A message is stored as its direction, segments and outcome: never its text, and never a
 * number (the parties are the session's, which are redacted with it).
 */
@Schema({ ...baseSchemaOptions, collection: 'call_events', timestamps: false })
export class CallEventDocument {
  /**
   * `call:${sessionId}:${callId}:${step}` (`message:${sessionId}:${messageId}` for a message): a
   * redelivered event is the same document, and only this session's steps can be. Before 2026-12
   * a call's was `${callId}:${step}`, which another tenant's forged step could take first.
   */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: String, required: true }) sessionId!: string;
  @Prop({ type: String, required: true }) callId!: string;
  @Prop({ type: String, required: true }) step!: string;
  @Prop({ type: Date, required: true }) at!: Date;
  @Prop({ type: String, default: null }) firstPartyCallUuid!: string | null;
  @Prop({ type: String, default: null }) secondPartyCallUuid!: string | null;
  @Prop({ type: String, default: null }) status!: string | null;
  @Prop({ type: Number, default: 0 }) durationSeconds!: number;
  @Prop({ type: Number, default: 0 }) billedDurationSeconds!: number;
  /** A recording's URL in clear: only in steps stored before they were sealed (2026-12-07). */
  @Prop({ type: String, default: null }) recordingUrl!: string | null;
  /**
   * A recording's URL as its event carried it, sealed (`RecordingUrlSeal`, bound to the account,
   * session and call): this service cannot open it; the gateway does, for the interactions' view.
   */
  @Prop({ type: Object }) sealedRecordingUrl?: EncryptedSecret;
  /** Messages only: `first-to-second` or `second-to-first`. */
  @Prop({ type: String, default: null }) direction?: string | null;
  @Prop({ type: Number, default: 0 }) segments?: number;
  /** Messages only: the provider's id of the copy sent to the other party. */
  @Prop({ type: String, default: null }) relayedMessageId?: string | null;
  /** Messages only: why it was not relayed. */
  @Prop({ type: String, default: null }) failureReason?: string | null;
  /** A call's caller, the session's first or second party (Proxy sessions). */
  @Prop({ type: String }) callerRole?: 'first' | 'second';
  /** A message sent through the API to a party (Twilio's MessageInteraction). */
  @Prop({ type: Boolean }) viaApi?: boolean;
}

export const CallEventSchema = SchemaFactory.createForClass(CallEventDocument);
// A session's calls, for its interactions and totals.
CallEventSchema.index({ sessionId: 1, at: 1 });
// Retention sweep: the steps recorded before a time (but those of sessions still kept).
CallEventSchema.index({ at: 1 });
