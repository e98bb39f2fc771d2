import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';

/**
 * An ended session's party numbers in clear, apart from its record in the history (which holds their
 * digests from the start): kept until PARTY_REDACTION_AFTER_HOURS after the end (until the record's
 * retention for an account that keeps numbers). Redaction deletes it, a range at a time: on FerretDB
 * v1 an update of N documents is N scans of the collection, each holding the store's write lock
 * (0.45 s a document at 75,000 records, every writer of the system stalled meanwhile; a delete
 * is one scan and one statement, however many).
 */
@Schema({ ...baseSchemaOptions, collection: 'ended_session_parties', timestamps: false })
export class EndedSessionPartiesDocument {
  /** The session's id. */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: String, default: null }) firstParty!: string | null;
  @Prop({ type: String, default: null }) secondParty!: string | null;
  /** The session's `expiredAt`. */
  @Prop({ type: Date, required: true }) endedAt!: Date;
}

export const EndedSessionPartiesSchema = SchemaFactory.createForClass(EndedSessionPartiesDocument);
// Redaction and retention sweeps: numbers by when their session ended.
EndedSessionPartiesSchema.index({ endedAt: 1 });
