import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';

/**
 * A session whose last stored change an API request could not announce (the stream away for the
 * request's time): kept until the change is announced (`UnannouncedUpdateSweeper`), so that it is, even
 * when the replica that stored it stops before its own retries do. Holds no party numbers. The
 * collection holds only such sessions, a handful, never the history.
 */
@Schema({ ...baseSchemaOptions, collection: 'unannounced_updates', timestamps: false })
export class UnannouncedUpdateDocument {
  /** The session id. */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: Date, required: true }) createdAt!: Date;
}

// The sweep reads every entry (the collection is only the changes not yet announced): no index but `_id`.
export const UnannouncedUpdateSchema = SchemaFactory.createForClass(UnannouncedUpdateDocument);
