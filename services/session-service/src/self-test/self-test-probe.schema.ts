import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';

/** One operator self-test run: written, read back, and announced as a durable event. */
@Schema({ ...baseSchemaOptions, collection: 'self_test_probes' })
export class SelfTestProbe {
  /** The probe id (a UUID chosen by the gateway). */
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: Date, required: true })
  storedAt!: Date;
}

export const SelfTestProbeSchema = SchemaFactory.createForClass(SelfTestProbe);
// No secondary index: probes are only read by _id.
