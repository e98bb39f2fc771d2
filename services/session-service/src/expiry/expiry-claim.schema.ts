import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';

/** Who is expiring a session: the first insert wins, so one replica does it. */
@Schema({ ...baseSchemaOptions, collection: 'expiry_claims', timestamps: false })
export class ExpiryClaimDocument {
  /** `${sessionId}:${attempt}` — a stale claim is taken over by inserting the next attempt. */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) sessionId!: string;
  @Prop({ type: Date, required: true }) claimedAt!: Date;
}

export const ExpiryClaimSchema = SchemaFactory.createForClass(ExpiryClaimDocument);
// Takeover: a session's claims.
ExpiryClaimSchema.index({ sessionId: 1 });
// Retention sweep: claims of expiries long finished.
ExpiryClaimSchema.index({ claimedAt: 1 });
