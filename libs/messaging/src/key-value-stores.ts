import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import {
  DeliverPolicy,
  DiscardPolicy,
  nanos,
  type JetStreamManager,
  type KV,
  type KvEntry,
  type MsgRequest,
  type NatsConnection,
} from 'nats';
import type { Logger } from 'pino';
import { natsKeyBound, natsStorageBound, type NatsKeyedStore } from '@maskline/contracts';
import { LOGGER } from '@maskline/observability';
import { retryWhileJetStreamUnavailable, retryWhileNoResponders } from './jetstream-retry';
import { isStorageReservationRefused, storageReservationError } from './storage-reservation';
import {
  MESSAGING_OPTIONS,
  NATS_CONNECTION,
  natsCapacityOf,
  type MessagingOptions,
} from './messaging.options';

export interface BucketOptions {
  /**
   * Entries older than this are removed by the server (0: kept until deleted). A bucket made
   * earlier with another age gets this one (the setting changed since).
   */
  ttlMs?: number;
  /**
   * How long one read or write waits for JetStream's answer (nats.js's 5 s when unset). A service
   * whose callers give it less than that sets it lower, so that while a stream leader is elected
   * (a NATS node lost) it answers "unavailable" in their time instead of leaving them without an
   * answer (a timeout, which their breakers count). A write given up may still land.
   */
  opTimeoutMs?: number;
  /**
   * How long one read or write is asked again while JetStream has no responders (a stream leader
   * being elected): `NO_RESPONDERS_WITHIN_MS` when unset, inside any caller's 2 s. A service whose
   * callers give it longer rides out more of an election. A request nobody answered was not
   * carried out, so asking again is safe.
   */
  noRespondersWithinMs?: number;
  /**
   * The most the bucket holds, in bytes (unbounded when unset): past it, writes are refused
   * (JetStream discards new) until entries age out, unless `whenFull` says otherwise. For buckets
   * whose writes are best effort, which one tenant could otherwise grow without bound. A bucket made
   * earlier with another bound gets this one.
   */
  maxBytes?: number;
  /**
   * What a bucket at its bound does with a write: `refuse` it (the default), or `forget-oldest`
   * entries to make room (JetStream discards old), so writes always go in and what the bucket
   * remembers covers a shorter time instead. For a memory that must keep answering (a replay guard)
   * and may forget its oldest first; never for one whose forgetting undoes a protection (a
   * throttle's failures). A bucket made earlier the other way is changed to this.
   */
  whenFull?: 'refuse' | 'forget-oldest';
  /**
   * The most keys the bucket holds (unbounded when unset), as `maxBytes` for its bytes: NATS keeps
   * every key in memory. A bucket made earlier with another bound gets this one.
   */
  maxEntries?: number;
  /**
   * The bucket's share of NATS's storage and memory (`NATS_STORAGE_SHARES`, `NATS_MEMORY_SHARES`):
   * bounded by those shares of `MessagingOptions.storageBytes` (its bytes) and `memoryBytes` (its
   * keys), in place of `maxBytes` and `maxEntries`; full, it forgets its oldest unless `whenFull`
   * says `refuse`. For a bucket that grows with a tenant's traffic.
   */
  storageShare?: NatsKeyedStore;
}

/** A KV key as the bucket takes it (tokens of these characters, dot-separated: no wildcard). */
const KV_KEY = /^[-/=\w]+(\.[-/=\w]+)*$/;
/** How long `leaderEntry` waits for the leader (inside any caller's 2 s). */
const LEADER_READ_TIMEOUT_MS = 1500;

/** One key's latest entry, as `leaderEntry` reads it (the shape of a KV entry's fields a reader needs). */
export interface LeaderEntry {
  operation: 'PUT' | 'DEL' | 'PURGE';
  value: Uint8Array;
  revision: number;
  created: Date;
}

/**
 * NATS JetStream key-value buckets: O(1) reads, atomic create and compare-and-set by revision.
 * Opening a bucket creates it if missing; every replica may do so at once.
 */
@Injectable()
export class KeyValueStores implements OnModuleInit {
  private readonly open = new Map<string, Promise<KV>>();
  private readonly declared = new Map<string, BucketOptions>();
  private manager?: Promise<JetStreamManager>;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * A bucket this service uses (say so from a constructor): it is opened at startup, before the
   * service answers anything, so that a fresh replica's first requests do not pay for it.
   */
  declare(name: string, options: BucketOptions = {}): void {
    this.declared.set(name, options);
  }

  async onModuleInit(): Promise<void> {
    for (const [name, options] of this.declared) {
      await retryWhileJetStreamUnavailable(`bucket ${name}`, this.logger, () => this.bucket(name, options));
    }
  }

  /** The bucket, opened with the options it was declared with unless others are given. */
  bucket(name: string, declared: BucketOptions = this.declared.get(name) ?? {}): Promise<KV> {
    let kv = this.open.get(name);
    if (!kv) {
      const options = this.bounded(declared);
      kv = this.nc
        .jetstream(options.opTimeoutMs === undefined ? {} : { timeout: options.opTimeoutMs })
        .views.kv(name, {
          history: 1,
          ttl: options.ttlMs ?? 0,
          replicas: this.options.streamReplicas ?? 1,
          // A bucket that forgets its oldest when full gets its bound with that policy, in one update
          // (keepingSettings): made bounded here, it would refuse writes once full should that fail.
          ...(options.maxBytes === undefined || options.whenFull === 'forget-oldest'
            ? {}
            : { max_bytes: options.maxBytes }),
        })
        .then((opened) => this.keepingSettings(name, opened, options))
        .then((opened) => readingLeaderAfterLostSets(name, opened, (key) => this.leaderEntry(name, key)))
        .then((opened) =>
          retryingNoResponders(opened, options.noRespondersWithinMs ?? NO_RESPONDERS_WITHIN_MS),
        )
        .catch((err: unknown) => {
          // Its share of NATS's storage cannot be reserved (made bounded, or given its bound): not
          // run unbounded, as one tenant could then fill NATS; the operator is told what to change.
          if (options.storageShare === undefined || options.maxBytes === undefined) throw err;
          if (!isStorageReservationRefused(err)) throw err;
          throw storageReservationError(
            `KV bucket ${name}`,
            options.storageShare,
            options.maxBytes,
            natsCapacityOf(this.options).storageBytes,
          );
        });
      this.open.set(name, kv);
      kv.catch(() => this.open.delete(name));
    }
    return kv;
  }

  /** `options` with a storage share resolved into its bounds and policy. */
  private bounded(options: BucketOptions): BucketOptions {
    if (options.storageShare === undefined) return options;
    const { storageBytes, memoryBytes } = natsCapacityOf(this.options);
    return {
      ...options,
      maxBytes: natsStorageBound(options.storageShare, storageBytes),
      maxEntries: natsKeyBound(options.storageShare, memoryBytes),
      whenFull: options.whenFull ?? 'forget-oldest',
    };
  }

  /**
   * A key's latest entry as its bucket's stream leader holds it, or null when the bucket holds none.
   * A KV get may be answered by any replica of the bucket (`allow_direct`), and a replica may lag,
   * or, after a crash, disagree with the leader (nats-server 2.9: nats-io/nats-server#4174, fixed
   * in 2.10 by #5054); a compare-and-set is checked by the leader, so the revision to set against
   * after a lost one is read here. Within LEADER_READ_TIMEOUT_MS; no responders are waited out as for
   * any read.
   */
  async leaderEntry(bucket: string, key: string): Promise<LeaderEntry | null> {
    if (!KV_KEY.test(key)) throw new Error(`not a KV key: ${key.slice(0, 80)}`);
    const manager = await this.streamManager();
    try {
      const m = await retryWhileNoResponders(
        () => manager.streams.getMessage(`KV_${bucket}`, { last_by_subj: `$KV.${bucket}.${key}` }),
        NO_RESPONDERS_WITHIN_MS,
      );
      const operation = m.header?.get('KV-Operation');
      return {
        operation: operation === 'DEL' || operation === 'PURGE' ? operation : 'PUT',
        value: m.data,
        revision: m.seq,
        created: m.time,
      };
    } catch (err) {
      // "no message found": nothing under the key (a missing stream is an error, not an answer).
      if (isNoMessageFound(err)) return null;
      throw err;
    }
  }

  /**
   * Removes one revision of a key, leaving nothing in its place (a KV delete or purge leaves a
   * marker, which is a key NATS keeps): for an entry whose writer knows nobody needs it, so that
   * what it held counts against its bucket's bound no longer. A revision since replaced is gone
   * already, and another is never given its number: this removes that entry or nothing. Whether it
   * removed it.
   */
  async forgetRevision(bucket: string, revision: number): Promise<boolean> {
    const manager = await this.streamManager();
    try {
      return await retryWhileNoResponders(
        () => manager.streams.deleteMessage(`KV_${bucket}`, revision, false),
        NO_RESPONDERS_WITHIN_MS,
      );
    } catch (err) {
      // Replaced, or aged out, already: "no message found" (10057, which is any failed delete); removed
      // already (by another remover, or purged): "sequence N not found" (10043, nats-server 2.10).
      const description = (err as { api_error?: { description?: string } }).api_error?.description ?? '';
      const code = jetStreamErrorCode(err);
      const gone =
        (code === 10057 && /no message found/i.test(description)) ||
        (code === 10043 && /sequence \d+ not found/i.test(description));
      if (!gone) throw err;
      return false;
    }
  }

  /**
   * Removes the delete and purge markers among the bucket's next `atMost` entries after position
   * `after` (a stream sequence; 0 for its start), leaving nothing in their place: for a bucket
   * without an age whose writers now remove entries with `forgetRevision`, to clear the markers an
   * earlier release left (each a key NATS keeps in memory, forever). Every entry of a bucket keeping
   * one revision a key is its key's latest, so a marker removed uncovers nothing; a key written
   * again meanwhile keeps what was written. One bounded slice a call, which never waits on a quiet
   * bucket: `next` is where the next call goes on, and `atEnd` whether this one read to the bucket's end.
   */
  async removeDeleteMarkers(
    bucket: string,
    after: number,
    atMost: number,
  ): Promise<{ removed: number; next: number; atEnd: boolean }> {
    await this.bucket(bucket);
    const stream = `KV_${bucket}`;
    const manager = await this.streamManager();
    const { first_seq: first, last_seq: last } = (
      await retryWhileNoResponders(() => manager.streams.info(stream), NO_RESPONDERS_WITHIN_MS)
    ).state;
    // The first entry left at or after the slice's start (entries are removed all the time); the
    // server takes `next_by_subj` (nats-server 2.9 on), which nats.js's type leaves out.
    const nextEntry = { seq: Math.max(after + 1, first), next_by_subj: `$KV.${bucket}.>` };
    const start = await retryWhileNoResponders(
      () => manager.streams.getMessage(stream, nextEntry as unknown as MsgRequest),
      NO_RESPONDERS_WITHIN_MS,
    ).then(
      (m) => m.seq,
      (err: unknown) => {
        if (isNoMessageFound(err)) return undefined;
        throw err;
      },
    );
    if (start === undefined) return { removed: 0, next: Math.max(after, last), atEnd: true };
    const consumer = await this.nc.jetstream().consumers.get(stream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: start,
      headers_only: true,
    });
    const markers: number[] = [];
    let next = after;
    let atEnd = false;
    try {
      // Up to `atMost`, or to the entry the consumer says nothing follows (so a slice reaching the
      // bucket's end never waits); entries removed meanwhile are skipped, and a wait cut short by
      // their removal ends at MARKER_SLICE_WAIT_MS.
      const entries = await consumer.fetch({ max_messages: atMost, expires: MARKER_SLICE_WAIT_MS });
      for await (const m of entries) {
        next = m.seq;
        const operation = m.headers?.get(KV_OPERATION_HEADER);
        if (operation === 'DEL' || operation === 'PURGE') markers.push(m.seq);
        if (m.info.pending === 0) {
          next = Math.max(next, last);
          atEnd = true;
          break;
        }
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    for (let i = 0; i < markers.length; i += MARKER_REMOVALS_AT_ONCE) {
      await Promise.all(
        markers
          .slice(i, i + MARKER_REMOVALS_AT_ONCE)
          .map((revision) => this.forgetRevision(bucket, revision)),
      );
    }
    return { removed: markers.length, next, atEnd };
  }

  /** The JetStream manager `leaderEntry` and `forgetRevision` ask (answers within LEADER_READ_TIMEOUT_MS). */
  private streamManager(): Promise<JetStreamManager> {
    if (!this.manager) {
      const opening = this.nc.jetstreamManager({ checkAPI: false, timeout: LEADER_READ_TIMEOUT_MS });
      this.manager = opening;
      opening.catch(() => (this.manager = undefined));
    }
    return this.manager;
  }

  /**
   * Opening a bucket that exists leaves its settings alone (nats.js), and making one always makes it
   * refuse writes when full: a bucket whose entries should now live longer or shorter, or which
   * should hold more or less, or forget its oldest when full (its setting changed, or it was just
   * made), is given the age, bound and policy asked for. A bucket declared without a bound keeps the
   * one it has (an operator's).
   */
  private async keepingSettings(name: string, kv: KV, options: BucketOptions): Promise<KV> {
    const ttlMs = options.ttlMs ?? 0;
    try {
      const status = await kv.status();
      const config = status.streamInfo.config;
      const bound = options.maxBytes ?? config.max_bytes;
      const entries = options.maxEntries ?? config.max_msgs;
      const discard = options.whenFull === 'forget-oldest' ? DiscardPolicy.Old : DiscardPolicy.New;
      if (
        status.ttl === ttlMs &&
        config.max_bytes === bound &&
        config.max_msgs === entries &&
        config.discard === discard
      )
        return kv;
      await (
        await this.nc.jetstreamManager()
      ).streams.update(config.name, {
        ...config,
        max_age: nanos(ttlMs),
        max_bytes: bound,
        max_msgs: entries,
        discard,
      });
      this.logger.info(
        {
          bucket: status.bucket,
          from: {
            ttlMs: status.ttl,
            maxBytes: config.max_bytes,
            maxEntries: config.max_msgs,
            discard: config.discard,
          },
          to: { ttlMs, maxBytes: bound, maxEntries: entries, discard },
        },
        'KV bucket settings brought to the configured age, bound and policy',
      );
    } catch (err) {
      // A share that cannot be reserved stops the opening (`bucket` says why).
      if (options.storageShare !== undefined && isStorageReservationRefused(err)) throw err;
      // The bucket works with the settings it has: said, and tried again at this process's next start.
      this.logger.warn({ err, bucket: name }, 'KV bucket age or bound not brought to the setting');
    }
    return kv;
  }
}

const RETRIED: ReadonlySet<string | symbol> = new Set(['get', 'put', 'create', 'update', 'delete', 'purge']);
/** How long a read or write waits out "no responders" unless its bucket says (inside any caller's 2 s). */
const NO_RESPONDERS_WITHIN_MS = 1500;

/** The bucket, with its reads and writes asked again while JetStream has no responders. */
function retryingNoResponders(kv: KV, withinMs: number): KV {
  return new Proxy(kv, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (!RETRIED.has(prop) || typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        retryWhileNoResponders(
          () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args),
          withinMs,
        );
    },
  });
}

/** Compare-and-sets (by key, the first argument) whose loss sends the key's next read to the leader. */
const CONDITIONAL: ReadonlySet<string | symbol> = new Set(['create', 'update', 'delete', 'purge']);
/** Markers `removeDeleteMarkers` removes at once (each one request). */
const MARKER_REMOVALS_AT_ONCE = 32;
/** How long `removeDeleteMarkers` waits for a slice whose tail was removed after it asked. */
const MARKER_SLICE_WAIT_MS = 2_000;
/** The header by which NATS KV marks an entry a delete (`DEL`) or a purge (`PURGE`). */
const KV_OPERATION_HEADER = 'KV-Operation';

/** Keys a bucket remembers to read at the leader next, at most (the oldest go first). */
const LEADER_NEXT_MAX = 10_000;

/**
 * The bucket, with the next read of a key whose compare-and-set was just lost made at the bucket's
 * stream leader (`leaderEntry`). A KV get may be answered by any replica; one that lags, or that
 * disagrees with its leader after a crash (nats-server 2.9), answers every read of a get-then-set
 * loop with a revision the leader refuses, and the loop loses every round. The first read after a
 * loss is the leader's; every other read stays as fast as before.
 */
export function readingLeaderAfterLostSets(
  bucket: string,
  kv: KV,
  readLeader: (key: string) => Promise<LeaderEntry | null>,
): KV {
  const leaderNext = new Set<string>();
  return new Proxy(kv, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const call = (args: unknown[]) => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      if (prop === 'get') {
        return async (...args: unknown[]) => {
          const [key, options] = args;
          if (typeof key !== 'string' || options !== undefined || !leaderNext.delete(key)) return call(args);
          const entry = await readLeader(key);
          return entry && leaderKvEntry(bucket, key, entry);
        };
      }
      if (!CONDITIONAL.has(prop)) return value;
      const lost = (key: unknown) => {
        if (typeof key !== 'string') return;
        leaderNext.delete(key);
        leaderNext.add(key);
        if (leaderNext.size > LEADER_NEXT_MAX) leaderNext.delete(leaderNext.values().next().value as string);
      };
      const conditional = async (args: unknown[], write: (args: unknown[]) => Promise<unknown>) => {
        try {
          return await write(args);
        } catch (err) {
          if (isWrongLastSequence(err)) lost(args[0]);
          throw err;
        }
      };
      if (prop === 'create') {
        // nats.js's own: a key whose latest entry is a delete is created over it, and taken to be
        // live otherwise; which one it is, the leader says (the client's own create asks a replica).
        return (...args: unknown[]) =>
          conditional(args, async ([key, data]) => {
            try {
              return await target.put(key as string, data as Uint8Array, { previousSeq: 0 });
            } catch (err) {
              if (!isWrongLastSequence(err)) throw err;
              const latest = await readLeader(key as string);
              if (latest?.operation !== 'DEL' && latest?.operation !== 'PURGE') throw err;
              return target.update(key as string, data as Uint8Array, latest.revision);
            }
          });
      }
      return (...args: unknown[]) => conditional(args, call);
    },
  });
}

/** A leader's entry in the shape a KV get gives (what readers of one use). */
function leaderKvEntry(bucket: string, key: string, entry: LeaderEntry): KvEntry {
  return {
    bucket,
    key,
    value: entry.value,
    revision: entry.revision,
    operation: entry.operation,
    created: entry.created,
    delta: 0,
    length: entry.value.length,
    json: <T>() => JSON.parse(decoder.decode(entry.value)) as T,
    string: () => decoder.decode(entry.value),
  };
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export function kvEncode(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function kvDecode<T>(value: Uint8Array): T | null {
  if (value.length === 0) return null;
  return JSON.parse(decoder.decode(value)) as T;
}

/**
 * Any string as one token of a KV key (keys allow letters, digits and `-/_=.`, and `.` separates
 * tokens). One-to-one: a plain token has no `_`, anything else is `_` and its base64url.
 */
export function kvToken(id: string): string {
  return /^[A-Za-z0-9-]+$/.test(id) ? id : `_${Buffer.from(id).toString('base64url')}`;
}

/** The string `kvToken` made this token of. */
export function fromKvToken(token: string): string {
  return token.startsWith('_') ? Buffer.from(token.slice(1), 'base64url').toString() : token;
}

/** JetStream refused a write conditioned on a revision that is no longer the key's (10071). */
export function isWrongLastSequence(err: unknown): boolean {
  return jetStreamErrorCode(err) === 10071;
}

/**
 * A bucket at its bound refused a write (10077, its store's "maximum messages exceeded" or "maximum
 * bytes exceeded"): nothing was written, and nothing will be until entries age out or go.
 */
export function isStoreFull(err: unknown): boolean {
  const e = (err as { api_error?: { err_code?: number; description?: string } } | null)?.api_error;
  return e?.err_code === 10077 && /maximum (messages|bytes)/i.test(e.description ?? '');
}

/** A stream's message get found nothing on the subject (10037): an answer, not a failure. */
export function isNoMessageFound(err: unknown): boolean {
  return jetStreamErrorCode(err) === 10037;
}

function jetStreamErrorCode(err: unknown): number | undefined {
  return (err as { api_error?: { err_code?: number } } | null)?.api_error?.err_code;
}

/**
 * Creates the key unless it exists: true when this call created it, false when it was there
 * already (JetStream's "wrong last sequence", 10071). Atomic: of racing creators exactly one wins.
 */
export async function createIfAbsent(kv: KV, key: string, value: Uint8Array): Promise<boolean> {
  try {
    await kv.create(key, value);
    return true;
  } catch (err) {
    if (isWrongLastSequence(err)) return false;
    throw err;
  }
}

/**
 * Writes the key only if its latest revision is still `revision`: true when this call wrote it,
 * false when another write came first (JetStream's "wrong last sequence", 10071).
 */
export async function updateAtRevision(
  kv: KV,
  key: string,
  value: Uint8Array,
  revision: number,
): Promise<boolean> {
  try {
    await kv.update(key, value, revision);
    return true;
  } catch (err) {
    if (isWrongLastSequence(err)) return false;
    throw err;
  }
}
