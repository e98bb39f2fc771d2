import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import {
  sessionEndReasonSchema,
  type ProxySessionMode,
  type SessionEndReason,
  type SessionSettings,
} from '@maskline/contracts';
import { baseSchemaOptions } from '@maskline/persistence';

/** What a session made through Twilio's Proxy API has besides the engine's fields. */
export interface ProxySessionFacts {
  serviceSid: string;
  uniqueName: string | null;
  mode: ProxySessionMode;
  /** Seconds after creation or the last interaction (0: no limit), unless `dateExpiry` is set. */
  ttl: number;
  dateExpiry: Date | null;
  lastInteractionAt: Date | null;
  closedReason: string | null;
  /** Deleted through the API: gone from the Service's list and lookups (kept as history). */
  deletedAt?: Date | null;
  /**
   * Its participants, by slot (1: `firstParty`, who chose the number; 2: `secondParty`): written
   * once each joins. Their numbers are the session's parties (redacted with them), never here.
   */
  participants?: ProxyParticipantFacts[];
}

export interface ProxyParticipantFacts {
  /** Its `KP…` SID. */
  sid: string;
  slot: 1 | 2;
  friendlyName: string | null;
  createdAt: Date;
}

/** A session made through Twilio's Proxy API, as stored. */
export type ProxySessionDocument = SessionDocument & { proxy: ProxySessionFacts };

/**
 * A masking session. Its virtual number is held by number-pool under `allocationId`. A Proxy
 * session may have neither yet: it gets them with its first participant.
 */
@Schema({ ...baseSchemaOptions, collection: 'sessions', timestamps: false })
export class SessionDocument {
  /** session_uuid */
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) accountId!: string;
  @Prop({ type: String, default: null }) subaccountId!: string | null;
  @Prop({ type: String, default: null }) firstParty!: string | null;
  @Prop({ type: String, default: null }) secondParty!: string | null;
  @Prop({ type: String, default: null }) virtualNumber!: string | null;
  /** The key number-pool knows this session's holds by (one per allocation attempt). */
  @Prop({ type: String, default: null }) allocationId!: string | null;
  /** Made through Twilio's Proxy API (seen only there); absent for Plivo's. */
  @Prop({ type: Object, default: undefined }) proxy?: ProxySessionFacts | null;
  @Prop({ type: String, required: true, enum: ['active', 'expired'] }) status!: 'active' | 'expired';
  @Prop({ type: Object, required: true }) settings!: SessionSettings;
  @Prop({ type: Date, required: true }) createdAt!: Date;
  @Prop({ type: Date, required: true }) modifiedAt!: Date;
  @Prop({ type: Date, required: true }) expiresAt!: Date;
  /** expiresAt − createdAt in seconds (Plivo's `duration`), kept for the list filter. */
  @Prop({ type: Number, required: true }) durationSeconds!: number;
  @Prop({ type: Date, default: null }) expiredAt!: Date | null;
  /**
   * Why it was told to end before its time (its owner's DELETE or Proxy close, written with its
   * expiry brought to now): whichever replica then ends it announces that reason. Absent: its
   * time came.
   */
  @Prop({ type: String, enum: sessionEndReasonSchema.options }) endReason?: SessionEndReason;
  /**
   * Stored by a creation that never announced it and whose answer was an error (its process died,
   * it was slower than the orphan reaper's age, or its write landed after it had failed): the orphan
   * reaper ends it, and a replay of the creation's Idempotency-Key makes a new session instead of
   * answering with this one. Absent otherwise.
   */
  @Prop({ type: Boolean }) failedCreation?: boolean;
  /**
   * When the record stopped holding the parties' numbers: for a record written now, when it was
   * written (it holds their digests from the start, the numbers being kept apart in
   * `ended_session_parties`); for one an earlier version wrote with the numbers in it, when the
   * redaction sweep replaced them (null until then, or while its account keeps numbers).
   */
  @Prop({ type: Date, default: null }) redactedAt?: Date | null;
  /**
   * Only in records an earlier version wrote: each party's digest beside its number, under the key
   * `digestKeyId` names, which the redaction sweep renames over the number. Never on a live session.
   */
  @Prop({ type: String }) firstPartyDigest?: string | null;
  @Prop({ type: String }) secondPartyDigest?: string | null;
  @Prop({ type: String }) digestKeyId?: string;
  /**
   * A tombstone, not a session: the orphan reaper took this id from a creation that never finished,
   * so that the creation cannot store it afterwards (the unique `_id` decides which came first).
   * Tenants never see one; the retention sweep deletes it like any ended session.
   */
  @Prop({ type: Boolean }) abandoned?: boolean;
  /**
   * A Proxy session's first-participant fence: the write that gives the session its number and first
   * participant lands only while this is as it was read, so that a write whose outcome is unknown
   * can be fenced (`fenceFirstJoin`) before its number is given back. Absent until the first fence.
   */
  @Prop({ type: String }) joinFence?: string | null;
}

/**
 * `sessions` holds live sessions only (and the orphan reaper's tombstones): every hot path (create,
 * update, expiry, routing snapshots) reads and writes it, and on FerretDB v1 each of those is a scan
 * of the whole collection, so it must stay the size of what is live. An ended session moves to
 * `ended_sessions_<yyyymmdd>` (the history, a collection per day of the end), which only the API's
 * reads and the privacy sweeps touch.
 */
export const SessionSchema = SchemaFactory.createForClass(SessionDocument);
// List API: an account's live sessions, newest first.
SessionSchema.index({ accountId: 1, createdAt: -1 });
// Expiry scheduler: active sessions whose expiry time has come.
SessionSchema.index({ status: 1, expiresAt: 1 });
// Routing: live sessions on a number, page after page in id order.
SessionSchema.index({ virtualNumber: 1, status: 1, _id: 1 });
// List filters by number.
SessionSchema.index({ accountId: 1, virtualNumber: 1 });
// A number taken or moved: the live sessions on it outside its owner's account and subaccount
// (liveOnNumberOutside), the owner's own left out by their keys, not read.
SessionSchema.index({ virtualNumber: 1, status: 1, accountId: 1, subaccountId: 1, _id: 1 });

/** The list order: the newest first, then by id. */
export function newestFirst(
  a: Pick<SessionDocument, '_id' | 'createdAt'>,
  b: Pick<SessionDocument, '_id' | 'createdAt'>,
): number {
  return b.createdAt.getTime() - a.createdAt.getTime() || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);
}

/** The model name of the history: sessions that ended, same fields, kept SESSION_RETENTION_DAYS. */
export const ENDED_SESSION_MODEL = 'EndedSessionDocument';
export const EndedSessionSchema = SchemaFactory.createForClass(SessionDocument);
EndedSessionSchema.set('collection', 'ended_sessions');
// List API: an account's ended sessions, newest first.
EndedSessionSchema.index({ accountId: 1, createdAt: -1 });
// Retention and redaction sweeps: ended sessions by when they ended.
EndedSessionSchema.index({ expiredAt: 1 });
// List filters by number.
EndedSessionSchema.index({ accountId: 1, virtualNumber: 1 });
/** A day's collection of the history (`ended_sessions_<yyyymmdd>`): the same indexes, but for `{ createdAt }`. */
export const EndedSessionDaySchema = EndedSessionSchema.clone();
// Retention sweep, in the collection kept before days (`ended_sessions`) alone: kept sessions that
// began before a time (their call steps are kept with them; the days' are in `long_lived_sessions`).
EndedSessionSchema.index({ createdAt: 1 });
