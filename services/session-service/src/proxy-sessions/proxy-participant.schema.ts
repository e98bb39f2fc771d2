import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';

/**
 * A participant of a Proxy Session. Its two unique indexes are what keep a Session to two
 * participants and an identifier to one place in it, whatever requests race: a participant is
 * its insert, in slot 1 or slot 2.
 */
@Schema({ ...baseSchemaOptions, collection: 'proxy_participants' })
export class ProxyParticipantDocument {
  /** Its `KP…` SID. */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: String, required: true }) sessionId!: string;
  /** 1: the session's first party (it chose the number); 2: the second. */
  @Prop({ type: Number, required: true }) slot!: 1 | 2;
  @Prop({ type: String, required: true }) identifier!: string;
  @Prop({ type: String, default: null }) friendlyName!: string | null;
  /** Set once the participant holds it (null while it is being added). */
  @Prop({ type: String, default: null }) proxyIdentifier!: string | null;
  createdAt!: Date;
  updatedAt!: Date;
}

export const ProxyParticipantSchema = SchemaFactory.createForClass(ProxyParticipantDocument);
// At most two participants per Session (insert-time check), and a Session's participants by slot.
ProxyParticipantSchema.index({ sessionId: 1, slot: 1 }, { unique: true });
// One participant per identifier in a Session (insert-time check).
ProxyParticipantSchema.index({ sessionId: 1, identifier: 1 }, { unique: true });
