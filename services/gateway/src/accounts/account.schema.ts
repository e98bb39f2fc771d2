import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { EncryptedSecret } from '@maskline/crypto';
import { baseSchemaOptions } from '@maskline/persistence';

/** A main account (MA…) or a subaccount (SA…) of one. The token is never stored in clear. */
@Schema({ ...baseSchemaOptions, collection: 'accounts' })
export class Account {
  /** The Auth ID. */
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: String, required: true, enum: ['main', 'sub'] })
  kind!: 'main' | 'sub';

  /** For a subaccount, its main account; for a main account, itself (the tenant key). */
  @Prop({ type: String, required: true })
  accountId!: string;

  @Prop({ type: String, required: true })
  name!: string;

  @Prop({ type: Boolean, required: true, default: true })
  enabled!: boolean;

  /** HMAC-SHA256 of the Auth Token under the server's token pepper: verifies requests. */
  @Prop({ type: String, required: true })
  tokenDigest!: string;

  /** The Auth Token under AES-256-GCM (bound to the Auth ID): callbacks are signed with it. */
  @Prop({ type: Object, required: true })
  tokenEncrypted!: EncryptedSecret;

  createdAt!: Date;
  updatedAt!: Date;
}

export const AccountSchema = SchemaFactory.createForClass(Account);
// Lists a main account's subaccounts: { accountId, kind: 'sub' } sorted by _id; and counts them (SUBACCOUNTS_MAX).
AccountSchema.index({ accountId: 1, kind: 1, _id: 1 });
