import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';

/**
 * One owner's pool use in one minute: inserted once (its `_id` is owner and minute, so of the
 * replicas that sample the same minute the first wins), deleted after a day and an hour.
 */
@Schema({ ...baseSchemaOptions, collection: 'utilization_minutes', timestamps: false })
export class UtilizationMinuteDocument {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: String, default: null }) subaccountId!: string | null;
  @Prop({ type: Date, required: true }) minute!: Date;
  @Prop({ type: Number, required: true }) numbersTotal!: number;
  @Prop({ type: Number, required: true }) numbersInUse!: number;
  @Prop({ type: Number, required: true }) liveSessions!: number;
  @Prop({ type: Number, required: true }) delta!: number;
}
export const UtilizationMinuteSchema = SchemaFactory.createForClass(UtilizationMinuteDocument);
// History: an owner's minutes since a time.
UtilizationMinuteSchema.index({ accountId: 1, subaccountId: 1, minute: 1 });
// Retention: minutes older than the cutoff.
UtilizationMinuteSchema.index({ minute: 1 });

/** Allocations one replica refused for lack of numbers, per owner and minute (summed over replicas). */
@Schema({ ...baseSchemaOptions, collection: 'pool_exhaustion_minutes', timestamps: false })
export class ExhaustionMinuteDocument {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: String, default: null }) subaccountId!: string | null;
  @Prop({ type: Date, required: true }) minute!: Date;
  @Prop({ type: Number, required: true }) count!: number;
}
export const ExhaustionMinuteSchema = SchemaFactory.createForClass(ExhaustionMinuteDocument);
// History: an owner's refusals since a time.
ExhaustionMinuteSchema.index({ accountId: 1, subaccountId: 1, minute: 1 });
// Retention: minutes older than the cutoff.
ExhaustionMinuteSchema.index({ minute: 1 });
