import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { KV } from 'nats';
import type { Logger } from 'pino';
import { KeyValueStores, createIfAbsent, isWrongLastSequence, kvDecode, kvEncode } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import {
  BACKFILL_MARKER_KEY,
  LIVE_PINS_BUCKET,
  LivePinView,
  livePinKey,
  toLivePinEntry,
  type BackfillMarker,
} from './live-pin-view';
import { MongoPinRegistryStore } from './mongo-pin-registry.store';
import type { InsertOutcome, PinRegistration, PinRegistryStore } from './pin-registration';

/**
 * The registry's store port with the live state in NATS KV and the store as the record.
 *
 * A live registration is an entry of the live bucket under its digest, and a document in the store.
 * Order of writes, so that every crash leaves a state the normal paths repair:
 * - Register: KV `create` of the digest's key first (of replicas racing for one digest exactly one
 *   wins: the system-wide uniqueness of a PIN on a number), then the store insert (its unique
 *   indexes still hold, and the slot index decides the density cap). A refused insert takes the
 *   KV entry back. A crash in between leaves a KV entry without a record: the session's retried
 *   registration finds it (idempotent), its release removes it.
 * - Release: KV delete first (the PIN stops verifying everywhere), then the record is retired. A
 *   crash in between leaves a live record without a KV entry: it verifies nothing, and the first
 *   registration its unique indexes refuse retires it (`recordOrRepair`).
 *
 * Reads come from this replica's copy of the bucket (LivePinView): the same cost at any number of
 * registrations, live or past. While the copy's watch is being repaired, a digest is read from KV
 * itself and session or slot questions from the store.
 */
/** How long a session read waits for this replica's copy to catch up before it asks the record. */
const SYNC_TIMEOUT_MS = 1000;
/** How long the marker of a released PIN stays in the live bucket. */
const DELETE_MARKER_RETENTION_MS = 3600_000;
/**
 * How long a KV entry must have been found without a live record (at one revision, by this
 * replica's sweeps and its own clock) before it is taken for a stray: far longer than a
 * registration takes between its two writes, store deadline (30 s) included.
 */
export const UNRECORDED_ENTRY_AGE_MS = 10 * 60_000;
/**
 * How long one read or write of the live bucket waits for JetStream: a registration makes two, and
 * its caller (the creation saga) waits 5 s for the whole. While a stream leader is elected, a write
 * that waited nats.js's 5 s left the saga without an answer (chaos, a NATS node killed: "pin-auth
 * did not answer in time" after 5.1 s), which its breaker to pin-auth counted; given up sooner, it
 * is answered "unavailable", which the breaker does not count. One that lands after all is an entry
 * no record backs (`forgetUnrecorded`).
 */
const LIVE_PIN_OP_TIMEOUT_MS = 2000;

@Injectable()
export class LivePinRegistryStore implements PinRegistryStore, OnModuleInit, OnApplicationShutdown {
  readonly view: LivePinView;
  private lastPurge = Date.now();
  /** Live records the last stray sweep found without their KV entry. */
  private strayIds = new Set<string>();
  /**
   * KV entries the last stray sweep found without a live record: the revision it found, and when
   * (this replica's clock) it first found it so at that revision.
   */
  private unrecordedEntries = new Map<string, { revision: number; since: number }>();

  constructor(
    private readonly kv: KeyValueStores,
    private readonly records: MongoPinRegistryStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    kv.declare(LIVE_PINS_BUCKET, { opTimeoutMs: LIVE_PIN_OP_TIMEOUT_MS });
    this.view = new LivePinView(
      () => this.bucket(),
      (key) => kv.leaderEntry(LIVE_PINS_BUCKET, key),
      logger,
    );
  }

  /** Before the replica answers: its copy holds every live registration. */
  async onModuleInit(): Promise<void> {
    await this.view.mirror.start();
    if (!this.view.backfilled) await this.backfill();
  }

  onApplicationShutdown(): void {
    this.view.mirror.stop();
  }

  async insert(registration: PinRegistration): Promise<InsertOutcome> {
    const kv = await this.bucket();
    const key = livePinKey(registration.digest);
    let revision: number;
    try {
      revision = await kv.create(key, kvEncode(toLivePinEntry(registration)));
    } catch (err) {
      if (isWrongLastSequence(err)) return 'digest-taken';
      throw err;
    }
    this.view.mirror.applyOwnWrite(key, toLivePinEntry(registration), revision);
    try {
      const outcome = await this.recordOrRepair(kv, registration);
      if (outcome !== 'inserted') await this.takeBack(kv, key, revision);
      return outcome;
    } catch (err) {
      await this.takeBack(kv, key, revision);
      throw err;
    }
  }

  /**
   * The store insert, once this replica holds the digest in KV. A unique index that refuses it is
   * held by a live record: usually another registration on the slot (this replica's copy shows it).
   * Otherwise the record that refused has no KV entry, i.e. a release or failed registration
   * stopped between its two writes; such records are retired and the insert tried once more.
   */
  private async recordOrRepair(kv: KV, registration: PinRegistration): Promise<InsertOutcome> {
    if ((await this.records.insertRecord(registration)) === 'inserted') return 'inserted';
    // Its own record, made a moment ago by an attempt that overlapped this one (a retry, or the
    // attempt a retry overtook): recorded, not refused.
    if ((await this.records.liveByIds([registration._id])).length > 0) return 'inserted';
    const { virtualNumber, pinLength, slot, digest } = registration;
    if (this.view.slotHeldByOther(virtualNumber, pinLength, slot, digest)) return 'slot-taken';
    const conflicting = await this.records.liveConflicting(registration);
    let repaired = 0;
    for (const other of conflicting) {
      const entry = await kv.get(livePinKey(other.digest));
      const inKv = entry?.operation === 'PUT' && kvDecode<{ _id?: string }>(entry.value)?._id === other._id;
      if (inKv) continue;
      this.logger.warn({ registrationId: other._id }, 'retiring a live PIN record that has no KV entry');
      await this.records.retire(other.accountId, other, new Date());
      repaired++;
    }
    if (repaired > 0 && (await this.records.insertRecord(registration)) === 'inserted') return 'inserted';
    return conflicting.some((other) => other.digest === digest) ? 'digest-taken' : 'slot-taken';
  }

  /**
   * Register (idempotency), reveal and release read a session's PINs after a sync: they must see
   * a registration another replica answered a moment ago (a saga compensating a failed step
   * releases at once, maybe on another replica). Verification does not wait so (see PinVerifier).
   */
  async liveForSession(accountId: string, sessionId: string): Promise<PinRegistration[]> {
    if (!(await this.view.mirror.sync(SYNC_TIMEOUT_MS)))
      return this.records.liveForSession(accountId, sessionId);
    return this.view.forSession(accountId, sessionId);
  }

  /**
   * A session's registrations this replica found in KV, each given its record if it has none: a
   * first attempt that wrote KV and then stopped (its record insert failed, and so did taking the
   * entry back) leaves entries a retry answers with. Recorded, they are what every successful
   * registration is, and an entry without a record is a stray (`forgetUnrecorded`). A read of the
   * records by id (a scan on FerretDB), on a retry only.
   */
  async recorded(registrations: readonly PinRegistration[]): Promise<boolean> {
    const held = new Set((await this.records.liveByIds(registrations.map((r) => r._id))).map((r) => r._id));
    const kv = await this.bucket();
    for (const r of registrations) {
      if (held.has(r._id)) continue;
      const key = livePinKey(r.digest);
      const known = this.view.byDigest(r.digest);
      if (known?.registration._id !== r._id) return false;
      if ((await this.recordOrRepair(kv, r)) !== 'inserted') return false;
      // The entry is written again at its revision: a stray sweep that took it for unrecorded
      // meanwhile deletes nothing (its revision is gone); one that deleted it first makes this
      // fail, and the record goes (the PIN would verify nothing).
      try {
        const revision = await kv.update(key, kvEncode(toLivePinEntry(r)), known.revision);
        this.view.mirror.applyOwnWrite(key, toLivePinEntry(r), revision);
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
        // Written again meanwhile by an overlapping attempt that recorded it too: still ours.
        await this.view.mirror.refresh(key);
        if (this.view.byDigest(r.digest)?.registration._id === r._id) continue;
        await this.records.retire(r.accountId, r, new Date());
        return false;
      }
      this.logger.warn({ registrationId: r._id }, 'recorded a live PIN that KV held without its record');
    }
    return true;
  }

  async liveForSessions(accountId: string, sessionIds: readonly string[]): Promise<PinRegistration[]> {
    if (!(await this.view.mirror.sync(SYNC_TIMEOUT_MS)))
      return this.records.liveForSessions(accountId, sessionIds);
    return sessionIds.flatMap((id) => this.view.forSession(accountId, id));
  }

  async liveByDigest(accountId: string, digest: string): Promise<PinRegistration | null> {
    if (!this.view.ready) await this.view.mirror.refresh(livePinKey(digest));
    const found = this.view.byDigest(digest)?.registration;
    return found && found.accountId === accountId ? found : null;
  }

  async liveSlotsOnNumber(virtualNumber: string, pinLength: number): Promise<number[]> {
    if (!this.view.ready) return this.records.liveSlotsOnNumber(virtualNumber, pinLength);
    return this.view.slotsOn(virtualNumber, pinLength);
  }

  async retire(
    accountId: string,
    registration: Pick<PinRegistration, '_id' | 'digest'>,
    at: Date,
  ): Promise<void> {
    const kv = await this.bucket();
    const key = livePinKey(registration.digest);
    for (let tries = 1; ; tries++) {
      if (!this.view.ready || tries > 1) await this.view.mirror.refresh(key);
      const known = this.view.mirror.get(key);
      // Only this registration's entry: the digest may already be another session's.
      if (!known || (known.value as { _id?: string })._id !== registration._id) break;
      try {
        await kv.delete(key, { previousSeq: known.revision });
        this.view.mirror.applyOwnWrite(key, null, known.revision);
        break;
      } catch (err) {
        // The entry changed under us: read it again (a few times; then the caller asks again).
        if (!isWrongLastSequence(err) || tries >= 8) throw err;
      }
    }
    await this.records.retire(accountId, registration, at);
  }

  /**
   * Retires records that say live while KV holds no entry of theirs, and returns how many. Such a
   * record verifies nothing (KV is what verification reads) but holds its slot and digest in the
   * store: a store write carried out after its undo (a command past its deadline that ran once the
   * store resumed, a dropped connection), or a release stopped between its two writes. A
   * registration writes KV before the store, so a record the store shows has its entry in this
   * replica's copy once the copy has caught up with KV, unless it is a stray (or its release is
   * between its two writes: hence two sweeps).
   */
  async retireStrays(now: Date): Promise<number> {
    if (!this.view.ready || !this.view.backfilled) return 0;
    const live = await this.records.liveIdentitiesSystemWide();
    if (!(await this.view.mirror.sync(SYNC_TIMEOUT_MS))) return 0;
    const unbacked = live
      .filter((r) => this.view.byDigest(r.digest)?.registration._id !== r._id)
      .map((r) => r._id);
    // A release deletes the KV entry a moment before it retires the record: only a record found
    // without its entry by two sweeps in a row, and live still, is a stray.
    const confirmed = unbacked.filter((id) => this.strayIds.has(id));
    this.strayIds = new Set(unbacked);
    const strays = await this.records.liveByIds(confirmed);
    for (const r of strays) await this.records.retire(r.accountId, r, now);
    if (strays.length > 0)
      this.logger.warn({ retired: strays.length }, 'retired live PIN records that KV holds no entry of');
    await this.forgetUnrecorded(new Set(live.map((r) => r._id)), now);
    return strays.length;
  }

  /**
   * Deletes the KV entries no live record backs, and returns how many: a registration's KV create
   * that landed after it had timed out (its session had given the PINs up, and its release, finding
   * nothing yet, left the entry), or one whose take-back failed. Such an entry verifies a PIN for a
   * session that holds none, and keeps its digest and slot on the number for ever. A registration
   * writes KV a moment before the store, and a retried one records an entry it finds (writing the
   * entry again), so only an entry this replica's sweeps have found unrecorded at one revision for
   * UNRECORDED_ENTRY_AGE_MS is deleted, and only at that revision. A record that lands later still
   * is then a record without its entry: the sweep above retires it. `recorded`: the ids of every
   * live record, read before this replica's copy was synced.
   */
  async forgetUnrecorded(recorded: ReadonlySet<string>, now: Date): Promise<number> {
    const unrecorded = new Map<string, { revision: number; since: number }>();
    const due: Array<[string, number]> = [];
    for (const { key, registration, revision } of this.view.all()) {
      if (recorded.has(registration._id)) continue;
      const before = this.unrecordedEntries.get(key);
      const since = before?.revision === revision ? before.since : now.getTime();
      unrecorded.set(key, { revision, since });
      if (now.getTime() - since >= UNRECORDED_ENTRY_AGE_MS) due.push([key, revision]);
    }
    this.unrecordedEntries = unrecorded;
    if (due.length === 0) return 0;
    const kv = await this.bucket();
    let forgotten = 0;
    for (const [key, revision] of due) {
      try {
        await kv.delete(key, { previousSeq: revision });
        this.view.mirror.applyOwnWrite(key, null, revision);
        this.unrecordedEntries.delete(key);
        forgotten++;
      } catch (err) {
        // Changed since (released, recorded, or registered again): not a stray any more.
        if (!isWrongLastSequence(err)) throw err;
      }
    }
    if (forgotten > 0) this.logger.warn({ forgotten }, 'deleted live PIN entries that no live record backs');
    return forgotten;
  }

  /**
   * At most hourly: the bucket's markers of PINs released over an hour ago are removed, so that it
   * holds the live PINs and recent releases, not every PIN ever released. An hour is far longer
   * than any running watch lags; a watch that broke loads the bucket afresh (KvMirror).
   */
  async purgeOldReleases(now: Date): Promise<boolean> {
    if (now.getTime() - this.lastPurge < DELETE_MARKER_RETENTION_MS) return false;
    this.lastPurge = now.getTime();
    await this.view.mirror.purgeOldDeletes(DELETE_MARKER_RETENTION_MS);
    return true;
  }

  /** Removes an entry this replica just created, unless someone changed it since. */
  private async takeBack(kv: KV, key: string, revision: number): Promise<void> {
    try {
      await kv.delete(key, { previousSeq: revision });
      this.view.mirror.applyOwnWrite(key, null, revision);
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
  }

  /**
   * Once per bucket (the first replica of this version to start): the store's live registrations
   * from before the bucket existed are copied into it, so that PINs issued before the upgrade keep
   * verifying. `create` leaves any entry already there alone, so replicas doing it at once agree.
   * Start the new version after the old one has stopped: a registration or release an old replica
   * makes meanwhile is not in the bucket.
   */
  private async backfill(): Promise<void> {
    const kv = await this.bucket();
    const live = await this.records.liveSystemWide();
    let copied = 0;
    for (const r of live) {
      if (await createIfAbsent(kv, livePinKey(r.digest), kvEncode(toLivePinEntry(r)))) copied++;
    }
    const marker: BackfillMarker = { backfilledAt: new Date().toISOString() };
    const revision = await kv.put(BACKFILL_MARKER_KEY, kvEncode(marker));
    this.view.mirror.applyOwnWrite(BACKFILL_MARKER_KEY, marker, revision);
    // Entries created here reach this replica's copy through the watch: wait for them.
    await this.view.mirror.until(revision);
    if (live.length > 0)
      this.logger.info({ live: live.length, copied }, 'live PINs copied from the store into KV');
  }

  private bucket(): Promise<KV> {
    return this.kv.bucket(LIVE_PINS_BUCKET);
  }
}
