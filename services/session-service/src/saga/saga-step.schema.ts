import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';

/**
 * What a session creation has reserved in other services before its session is stored: a number
 * allocation, registered PINs. Written before each step, deleted when the saga ends; one left
 * behind (a crash) is found by the orphan reaper, which gives the reservation back.
 */
@Schema({ ...baseSchemaOptions, collection: 'saga_steps', timestamps: false })
export class SagaStepDocument {
  /** `${sessionId}:${kind}:${ref}` */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) sessionId!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: String, default: null }) subaccountId!: string | null;
  @Prop({ type: String, required: true, enum: ['allocation', 'pins'] }) kind!: 'allocation' | 'pins';
  /** The allocation id (for `allocation`), the session id (for `pins`). */
  @Prop({ type: String, required: true }) ref!: string;
  @Prop({ type: Date, required: true }) createdAt!: Date;
  /**
   * Its creation takes a verdict (`CreationVerdicts`) before it announces its session. Absent from the
   * steps of an earlier release's creation, which took none: the orphan reaper never settles its session.
   */
  @Prop({ type: Boolean }) takesVerdict?: boolean;
  /**
   * The first participant's number of a Proxy Session create: the create answers only once this
   * step is forgotten (after the session is announced), so one left behind is a create that failed
   * or died, answered with an error. The orphan reaper ends such a session rather than announcing it.
   * Absent from an earlier release's steps and from a later add's (`POST …/Participants`).
   */
  @Prop({ type: Boolean }) forCreate?: boolean;
}

export const SagaStepSchema = SchemaFactory.createForClass(SagaStepDocument);
// Orphan reaper: steps older than a while.
SagaStepSchema.index({ createdAt: 1 });
// Saga cleanup: a session's steps.
SagaStepSchema.index({ sessionId: 1 });
