import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';

/**
 * A Twilio-shaped API key (`SK…` and a secret) of an account or subaccount: it authenticates as
 * that account on the Twilio-compatible API. Its secret is kept only as a keyed digest.
 */
@Schema({ ...baseSchemaOptions, collection: 'api_keys' })
export class ApiKey {
  /** The key's SID: `SK` and 32 hex digits. */
  @Prop({ type: String, required: true }) _id!: string;
  /** The main account (the tenant key). */
  @Prop({ type: String, required: true }) accountId!: string;
  /** The account it acts as: the main account, or one of its subaccounts. */
  @Prop({ type: String, required: true }) authId!: string;
  @Prop({ type: String, required: true }) friendlyName!: string;
  /** HMAC-SHA256 of the secret under the server's token pepper. */
  @Prop({ type: String, required: true }) secretDigest!: string;
  createdAt!: Date;
  updatedAt!: Date;
}

export const ApiKeySchema = SchemaFactory.createForClass(ApiKey);
// Lists the keys of an account (or a subaccount): { accountId, authId } sorted by _id.
ApiKeySchema.index({ accountId: 1, authId: 1, _id: 1 });
