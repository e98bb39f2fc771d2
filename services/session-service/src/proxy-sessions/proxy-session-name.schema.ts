import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';

/**
 * A Session's UniqueName, held for it: the insert of `<Service SID>|<name>` (a unique `_id`) makes
 * names unique per Service, race-safe on every store, and finds a Session by name.
 */
@Schema({ ...baseSchemaOptions, collection: 'proxy_session_names' })
export class ProxySessionNameDocument {
  /** `<Service SID>|<UniqueName>`. */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: String, required: true }) sessionId!: string;
  createdAt!: Date;
  updatedAt!: Date;
}

export const ProxySessionNameSchema = SchemaFactory.createForClass(ProxySessionNameDocument);
