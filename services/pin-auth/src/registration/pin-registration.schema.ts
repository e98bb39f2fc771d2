import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { EncryptedSecret } from '@maskline/crypto';
import { baseSchemaOptions } from '@maskline/persistence';

/** See `pin-registration.ts`. Written by inserts and by retire updates keyed by `_id` (a UUID). */
@Schema({ ...baseSchemaOptions, collection: 'pin_registrations', timestamps: false })
export class PinRegistrationDocument {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: String, required: true }) sessionId!: string;
  @Prop({ type: String, required: true, enum: ['first', 'second'] }) party!: 'first' | 'second';
  @Prop({ type: String, required: true }) virtualNumber!: string;
  @Prop({ type: String, required: true }) digest!: string;
  @Prop({ type: Number, required: true }) pinLength!: number;
  @Prop({ type: Number, required: true }) slot!: number;
  @Prop({ type: String, required: true }) liveMarker!: string;
  @Prop({ type: Object, required: true }) sealed!: EncryptedSecret;
  @Prop({ type: Date, required: true }) createdAt!: Date;
  @Prop({ type: Date, default: null }) retiredAt!: Date | null;
}

export const PinRegistrationSchema = SchemaFactory.createForClass(PinRegistrationDocument);
// One live record per digest (a PIN on a number → one session and party); KV's create decides first.
PinRegistrationSchema.index({ digest: 1, liveMarker: 1 }, { unique: true, name: 'live_digest' });
// The density cap: one live registration per capacity slot of a number and PIN length.
PinRegistrationSchema.index(
  { virtualNumber: 1, pinLength: 1, slot: 1, liveMarker: 1 },
  { unique: true, name: 'live_slot' },
);
// A session's records: reveal and release while the replica's live copy is being repaired.
PinRegistrationSchema.index({ sessionId: 1, liveMarker: 1 });
// Purge of retired registrations.
PinRegistrationSchema.index({ retiredAt: 1 });
