import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';

/**
 * A participant's place in a Proxy Session, taken by inserting it: the two unique indexes keep a
 * Session to two participants and an identifier to one place in it, whatever requests race. Only
 * a keyed digest of the identifier is kept here (the number itself is the session's party, redacted
 * with it); the session document carries what is shown.
 */
@Schema({ ...baseSchemaOptions, collection: 'proxy_participants' })
export class ProxyParticipantDocument {
  /** Its `KP…` SID. */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: String, required: true }) sessionId!: string;
  /** 1: the session's first party (it chose the number); 2: the second. */
  @Prop({ type: Number, required: true }) slot!: 1 | 2;
  /** The identifier's keyed digest (the deployment's party redaction key). */
  @Prop({ type: String, required: true }) identifierDigest!: string;
  createdAt!: Date;
  updatedAt!: Date;
}

export const ProxyParticipantSchema = SchemaFactory.createForClass(ProxyParticipantDocument);
// At most two participants per Session (insert-time check); a place left by a failed add, by slot.
ProxyParticipantSchema.index({ sessionId: 1, slot: 1 }, { unique: true });
// One place per identifier in a Session (insert-time check).
ProxyParticipantSchema.index({ sessionId: 1, identifierDigest: 1 }, { unique: true });
