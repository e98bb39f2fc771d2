import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { baseSchemaOptions } from '@maskline/persistence';
import type { TallyGroup } from './ended-day-tally';

/**
 * One past day of ended sessions, tallied once (`EndedSessionTallies`): for each account that had
 * sessions end that day, a document of how many it and each of its subaccounts made through the
 * Plivo-style API, with the first and last start among them and every start, packed (`_id`
 * `<day>:<account>`); then the day's
 * own document (`_id` the day), written last, which says the day was tallied. Written once, never
 * changed, deleted once its day is no longer trusted (or, all of a day's, by an operator who wrote
 * history into it: `{ day }`). No id, no number.
 */
@Schema({ ...baseSchemaOptions, collection: 'ended_session_tallies', timestamps: false })
export class EndedSessionTallyDocument {
  /** The day's collection (`ended_sessions_<yyyymmdd>`), followed by `:<account>` for an account's groups. */
  @Prop({ type: String, required: true }) _id!: string;
  /** The day's collection. */
  @Prop({ type: String, required: true }) day!: string;
  /** The account's groups; none in the day's own document. */
  @Prop({ type: [Object], required: true }) groups!: TallyGroup[];
  /** In an account's document: it had more than TALLY_GROUPS_MAX groups that day (none kept), and its lists count the day. */
  @Prop({ type: Boolean, required: true }) tooMany!: boolean;
  /** When the day was tallied. */
  @Prop({ type: Date, required: true }) talliedAt!: Date;
}

// Lists and the retention sweep read tallies by `_id` alone (a day's, and an account's of it): no other index.
export const EndedSessionTallySchema = SchemaFactory.createForClass(EndedSessionTallyDocument);
