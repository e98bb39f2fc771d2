import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';

/** One step of one call through a session. Interactions and totals are built from these on read. */
@Schema({ ...baseSchemaOptions, collection: 'call_events', timestamps: false })
export class CallEventDocument {
  /** `${callId}:${step}`: a redelivered event is the same document. */
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
  @Prop({ type: String, default: null }) recordingUrl!: string | null;
}

export const CallEventSchema = SchemaFactory.createForClass(CallEventDocument);
// A session's calls, for its interactions and totals.
CallEventSchema.index({ sessionId: 1, at: 1 });
