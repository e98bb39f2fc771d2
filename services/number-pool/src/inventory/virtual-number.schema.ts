import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { EncryptedSecret } from '@maskline/crypto';
import { baseSchemaOptions } from '@maskline/persistence';
import type { ProviderHoldingRecord } from './provider-holding';

/** A number in an account's inventory. A number belongs to one account at a time. */
@Schema({ ...baseSchemaOptions, collection: 'virtual_numbers' })
export class VirtualNumberDocument {
  /** E.164. */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: String, default: null }) subaccountId!: string | null;
  @Prop({ type: String, required: true }) country!: string;
  @Prop({ type: String, default: null }) alias!: string | null;
  @Prop({ type: String, default: null }) region!: string | null;
  @Prop({ type: String, required: true, default: 'local' }) numberType!: string;
  @Prop({ type: String, default: null }) carrier!: string | null;
  @Prop({ type: String, required: true, enum: ['plivo', 'twilio'] }) provider!: 'plivo' | 'twilio';
  /** The provider's webhook-signing credentials, AES-256-GCM bound to the number. Never returned. */
  @Prop({ type: Object, default: null }) credentials!: (EncryptedSecret & { accountId: string }) | null;
  /**
   * What its provider last said of whether the provider account of its credentials holds it, and of
   * which account (`holdingConfirmed`). Absent: never asked (no credentials, or stored before the
   * question was asked: the confirmation sweep asks). No default: absent must stay absent.
   */
  @Prop({ type: Object }) providerHolding?: ProviderHoldingRecord;
  /** Where calls go when no live session is on the number. */
  @Prop({ type: String, default: null }) fallbackAnswerUrl!: string | null;
  @Prop({ type: String, default: null }) fallbackMessage!: string | null;
  /** What the number carries (absent on numbers stored before capabilities: both). */
  @Prop({ type: Boolean, default: true }) voiceEnabled?: boolean;
  @Prop({ type: Boolean, default: true }) smsEnabled?: boolean;
  /** The Twilio Proxy Service the number serves, if any, and whether it is kept for pinned use. */
  @Prop({ type: String, default: null }) proxyServiceSid?: string | null;
  @Prop({ type: Boolean, default: false }) isReserved?: boolean;
  @Prop({ type: String, required: true, enum: ['active', 'deleted'] }) status!: 'active' | 'deleted';
  @Prop({ type: Date, default: null }) deletedAt!: Date | null;
  createdAt!: Date;
  updatedAt!: Date;
}

export const VirtualNumberSchema = SchemaFactory.createForClass(VirtualNumberDocument);
// The allocator's candidate pool and the list API: an account's (or subaccount's) numbers by status and country.
VirtualNumberSchema.index({ accountId: 1, subaccountId: 1, status: 1, country: 1, _id: 1 });
// A Proxy Service's numbers: { accountId, proxyServiceSid } sorted by _id.
VirtualNumberSchema.index({ accountId: 1, proxyServiceSid: 1, _id: 1 });
