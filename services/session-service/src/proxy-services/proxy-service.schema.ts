import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';

/** A Twilio Proxy Service of an account (or subaccount): the settings its Sessions start from. */
@Schema({ ...baseSchemaOptions, collection: 'proxy_services' })
export class ProxyServiceDocument {
  /** `KS` and 32 hex digits. */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: String, default: null }) subaccountId!: string | null;
  @Prop({ type: String, required: true }) uniqueName!: string;
  @Prop({ type: Number, required: true }) defaultTtl!: number;
  @Prop({ type: String, default: null }) callbackUrl!: string | null;
  @Prop({ type: String, required: true }) geoMatchLevel!: string;
  @Prop({ type: String, required: true }) numberSelectionBehavior!: string;
  @Prop({ type: String, default: null }) interceptCallbackUrl!: string | null;
  @Prop({ type: String, default: null }) outOfSessionCallbackUrl!: string | null;
  @Prop({ type: String, default: null }) chatInstanceSid!: string | null;
  @Prop({ type: Boolean, required: true }) interceptFailClosed!: boolean;
  createdAt!: Date;
  updatedAt!: Date;
}

export const ProxyServiceSchema = SchemaFactory.createForClass(ProxyServiceDocument);
// Lists an owner's Services, newest first: { accountId, subaccountId } sorted by createdAt; and by its
// prefix, counts a main account's, its subaccounts' included (PROXY_SERVICES_MAX).
ProxyServiceSchema.index({ accountId: 1, subaccountId: 1, createdAt: -1 });

/**
 * A Service's UniqueName, held for it: the insert of `<owner>|<name>` (a unique `_id`) is what
 * makes names unique per owner, race-safe on every store; it also finds a Service by name.
 */
@Schema({ ...baseSchemaOptions, collection: 'proxy_service_names' })
export class ProxyServiceNameDocument {
  /** `<owner Auth ID>|<UniqueName>`. */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: String, required: true }) serviceSid!: string;
  createdAt!: Date;
  updatedAt!: Date;
}

export const ProxyServiceNameSchema = SchemaFactory.createForClass(ProxyServiceNameDocument);
