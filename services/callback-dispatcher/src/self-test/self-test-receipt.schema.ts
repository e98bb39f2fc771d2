import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';

/** Proof that a self-test probe's durable event reached the dispatcher. */
@Schema({ ...baseSchemaOptions, collection: 'self_test_receipts' })
export class SelfTestReceipt {
  /** The probe id. */
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: Date, required: true })
  receivedAt!: Date;

  @Prop({ type: Number, required: true })
  streamSequence!: number;
}

export const SelfTestReceiptSchema = SchemaFactory.createForClass(SelfTestReceipt);
// No secondary index: receipts are only read by _id.
