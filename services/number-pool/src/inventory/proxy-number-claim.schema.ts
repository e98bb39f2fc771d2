import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';

/**
 * Which Proxy Service a number serves: the insert of the number as `_id` (unique on every store,
 * race-safe where updates are not) is what gives a number to one Service only. The number's own
 * record mirrors it (`proxyServiceSid`) for listing.
 */
@Schema({ ...baseSchemaOptions, collection: 'proxy_number_claims' })
export class ProxyNumberClaimDocument {
  /** The number, E.164. */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: String, required: true }) serviceSid!: string;
  createdAt!: Date;
  updatedAt!: Date;
}

export const ProxyNumberClaimSchema = SchemaFactory.createForClass(ProxyNumberClaimDocument);
