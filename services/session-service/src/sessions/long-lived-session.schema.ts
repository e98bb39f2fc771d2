import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';

/**
 * An ended session that lived longer than the call steps' grace (`LongLivedSessions`): its id and
 * times alone (no number), written when it ends, before its record, and deleted with it.
 */
@Schema({ ...baseSchemaOptions, collection: 'long_lived_sessions', timestamps: false })
export class LongLivedSessionDocument {
  /** The session's id. */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: Date, required: true }) createdAt!: Date;
  /** The session's `expiredAt`. */
  @Prop({ type: Date, required: true }) endedAt!: Date;
}

export const LongLivedSessionSchema = SchemaFactory.createForClass(LongLivedSessionDocument);
// Retention sweep: the records of sessions that ended before a time.
LongLivedSessionSchema.index({ endedAt: 1 });
// Retention sweep: kept sessions that began before a time (their call steps are kept with them).
LongLivedSessionSchema.index({ createdAt: 1 });
