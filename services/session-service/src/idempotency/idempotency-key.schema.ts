import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';

/** An `Idempotency-Key` of a create call: the first insert wins, retries find it. */
@Schema({ ...baseSchemaOptions, collection: 'idempotency_keys', timestamps: false })
export class IdempotencyKeyDocument {
  /** `${accountId}[/${subaccountId}]:${key}` */
  @Prop({ type: String, required: true }) _id!: string;
  /** Whose key it is (the tenant key of every query). */
  @Prop({ type: String, required: true }) accountId!: string;
  /** SHA-256 of the request body as the gateway normalised it. */
  @Prop({ type: String, required: true }) requestHash!: string;
  @Prop({ type: String, required: true }) sessionId!: string;
  @Prop({ type: Date, required: true }) createdAt!: Date;
}

export const IdempotencyKeySchema = SchemaFactory.createForClass(IdempotencyKeyDocument);
// Purge of keys older than their retention.
IdempotencyKeySchema.index({ createdAt: 1 });
