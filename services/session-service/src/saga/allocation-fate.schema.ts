import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';

/**
 * Who decided what becomes of a Proxy session's allocation: the participant add that stores it
 * (`kept`), or the orphan reaper that gives it back (`reaped`). The first insert of the
 * allocation's id wins (a unique `_id`, race-safe on every store), so the reaper never releases a
 * number a session is about to hold, and an add never stores a number the reaper released.
 */
@Schema({ ...baseSchemaOptions, collection: 'allocation_fates', timestamps: false })
export class AllocationFateDocument {
  /** The allocation id. */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: String, required: true, enum: ['kept', 'reaped'] }) fate!: 'kept' | 'reaped';
  @Prop({ type: Date, required: true }) createdAt!: Date;
}

export const AllocationFateSchema = SchemaFactory.createForClass(AllocationFateDocument);
// Retention: fates long decided.
AllocationFateSchema.index({ createdAt: 1 });
