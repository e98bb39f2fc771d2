import type { KV, KvEntry, QueuedIterator } from 'nats';
import type { Logger } from 'pino';
import { kvDecode, type LeaderEntry } from './key-value-stores';
import { retryWhileJetStreamUnavailable } from './jetstream-retry';

/** One key's value as this replica knows it, with the bucket revision it was written at. */
export interface Mirrored<T> {
  value: T;
  revision: number;
}

export type MirrorChange<T> = (key: string, now: T | undefined, before: T | undefined) => void;

export interface KvMirrorOptions {
  /** Named in logs. */
  what: string;
  /** How long `start()` waits for the bucket's current values before the replica gives up starting. */
  catchUpTimeoutMs: number;
  /**
   * A key's entry as the bucket's stream leader holds it (KeyValueStores.leaderEntry): `refresh`
   * then takes the leader's word over the copy's. Without it, `refresh` asks the bucket (any replica).
   */
  readFromLeader?: (key: string) => Promise<LeaderEntry | null>;
}

/**
 * This replica's copy of a NATS KV bucket, kept by a watch (an ordered consumer of the bucket's
 * stream): reads cost a map lookup whatever the bucket holds, and every replica converges on the
 * bucket's state, in the bucket's order.
 *
 * - `start()` resolves once the copy holds every value the bucket held when the watch began (the
 *   replica must not answer from a copy that is still loading: call it before serving).
 * - Each key keeps the revision it was written at; an older write never replaces a newer one. A
 *   replica's own writes are applied at once (`applyOwnWrite`), so it reads what it wrote without
 *   waiting for the watch to bring it back.
 * - If the watch ends while the replica runs (the connection closed under it), the copy says it is
 *   not `ready` until a new watch has loaded the bucket again; readers fall back to the bucket
 *   itself meanwhile.
 *
 * A candidate for libs/messaging (it knows nothing of PINs); it lives here until that lib exports it.
 */
export class KvMirror<T> {
  private readonly entries = new Map<string, Mirrored<T | null>>();
  /** Keys a refresh is reading, and whether the copy's entry for one changed meanwhile (a delete too). */
  private readonly reading = new Map<string, { readers: number; changed: boolean }>();
  /** The highest bucket revision the watch has delivered. */
  private position = 0;
  private iterator?: QueuedIterator<KvEntry>;
  private stopped = false;
  private caughtUp = false;
  private readonly waiters: Array<{ revision: number; resolve: () => void }> = [];

  constructor(
    private readonly kv: () => Promise<KV>,
    private readonly options: KvMirrorOptions,
    private readonly logger: Logger,
    private readonly onChange: MirrorChange<T> = () => undefined,
  ) {}

  /** True while the copy is complete and the watch runs. */
  get ready(): boolean {
    return this.caughtUp && !this.stopped;
  }

  /** The last bucket revision the watch delivered. */
  get revision(): number {
    return this.position;
  }

  /** Keys held (and, for a moment after this replica deletes one, its marker). */
  get size(): number {
    return this.entries.size;
  }

  /** Loads the copy and keeps it current; waits out JetStream being unavailable (a cluster forming). */
  async start(): Promise<void> {
    await retryWhileJetStreamUnavailable(`${this.options.what} watch`, this.logger, () => this.watch());
  }

  stop(): void {
    this.stopped = true;
    this.iterator?.stop();
  }

  get(key: string): Mirrored<T> | undefined {
    const entry = this.entries.get(key);
    return entry && entry.value !== null ? (entry as Mirrored<T>) : undefined;
  }

  *values(): IterableIterator<[string, Mirrored<T>]> {
    for (const [key, entry] of this.entries) if (entry.value !== null) yield [key, entry as Mirrored<T>];
  }

  /**
   * What this replica just wrote: `value` at `revision`, or (null) a delete that came after
   * `revision`. Applied now, unless the watch already brought something newer.
   */
  applyOwnWrite(key: string, value: T | null, revision: number): void {
    // A delete's own revision is not returned by the client: it is newer than the write it was
    // conditioned on, and no newer than the next write, so it sits between the two.
    this.apply(key, value, value === null ? revision + 0.5 : revision);
  }

  /**
   * Reads one key into the copy: while the watch is not running, and after a lost compare-and-set.
   * With `readFromLeader`, from the bucket's leader, whose word then stands over the copy's unless
   * the copy's entry changed while the read was under way. A copy that holds a revision the leader
   * does not got it from a replica that disagrees with its leader (seen in a chaos run on
   * nats-server 2.9.10 after a kill -9: every release of those PINs lost its compare-and-set for
   * minutes): the key takes the leader's entry, and the whole copy, which came from the same watch,
   * is dropped and loaded again (`ready` is false until then).
   */
  async refresh(key: string): Promise<void> {
    const read = this.options.readFromLeader;
    const watching = this.reading.get(key) ?? { readers: 0, changed: false };
    if (watching.readers === 0) watching.changed = false;
    watching.readers++;
    this.reading.set(key, watching);
    let entry: LeaderEntry | KvEntry | null;
    try {
      entry = read ? await read(key) : await (await this.kv()).get(key);
    } finally {
      if (--watching.readers === 0) this.reading.delete(key);
    }
    const known = this.entries.get(key);
    if (!read) {
      this.merge(key, entry, known);
      return;
    }
    // The copy's entry changed while the leader's answer was on its way: the change is the newer.
    if (watching.changed) return;
    if (!entry) {
      // Nothing under the key at the leader (deleted, or aged out of the bucket): gone from the copy.
      this.forget(key);
      return;
    }
    if (!(known && Number.isInteger(known.revision) && known.revision > entry.revision)) {
      this.merge(key, entry, known);
      return;
    }
    this.logger.error(
      { what: this.options.what, held: known.revision, leader: entry.revision },
      'KV copy holds a revision its bucket’s leader does not: the leader’s entry stands, and the copy is loaded again',
    );
    this.forget(key);
    this.reload();
    // The key itself is known now, reloading or not (the caller sets against it next).
    const value = entry.operation === 'PUT' ? this.decode({ key, value: entry.value }) : null;
    if (value !== null) this.apply(key, value, entry.revision);
  }

  /** `refresh`'s read, merged by revision order (the newer wins), as the watch's entries are. */
  private merge(
    key: string,
    entry: LeaderEntry | KvEntry | null,
    known: Mirrored<T | null> | undefined,
  ): void {
    if (!entry) {
      // Gone from the bucket (expired), unless this replica wrote it after the read was answered.
      if (known && known.revision <= this.position) this.forget(key);
      return;
    }
    this.apply(
      key,
      entry.operation === 'PUT' ? this.decode({ key, value: entry.value }) : null,
      entry.revision,
    );
    const now = this.entries.get(key);
    if (now && now.value === null && now.revision <= this.position) this.entries.delete(key);
  }

  /**
   * Drops the copy and loads it again from a new watch: what this watch brought cannot be trusted.
   * Readers see `ready` false (and read the bucket) until the new copy is complete.
   */
  private reload(): void {
    // A copy still loading (or loading again) is left to finish: its key is mended all the same.
    if (this.stopped || !this.caughtUp || !this.iterator) return;
    const iterator = this.iterator;
    this.iterator = undefined;
    this.caughtUp = false;
    iterator.stop();
    // Not a change a refresh under way should yield to: the leader's answer it brings still stands.
    for (const key of [...this.entries.keys()]) this.drop(key);
    this.position = 0;
    this.resume(new Error('KV copy disagreed with its bucket’s leader'));
  }

  /** Drops a key this replica no longer needs to know (an idle throttle entry, say). Local only. */
  forget(key: string): void {
    if (this.drop(key)) this.touched(key);
  }

  /** The key out of the copy (its readers told), without counting as a change; whether it was there. */
  private drop(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    if (entry.value !== null) this.onChange(key, undefined, entry.value);
    return true;
  }

  /**
   * Resolves once the copy holds every write the bucket had acknowledged when this was called
   * (one request for the bucket's last revision, then the watch catching up to it): a read after
   * it sees what any replica wrote before. False if the watch is not running or does not get
   * there within `timeoutMs`; then read the bucket, or the record, instead.
   */
  async sync(timeoutMs: number): Promise<boolean> {
    if (!this.ready) return false;
    const { streamInfo } = await (await this.kv()).status();
    let timer: NodeJS.Timeout | undefined;
    const reached = await Promise.race([
      this.until(streamInfo.state.last_seq).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return reached && this.ready;
  }

  /** Resolves once the watch has delivered `revision` (for a test, or a caller that must see a write). */
  until(revision: number): Promise<void> {
    if (this.position >= revision) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ revision, resolve }));
  }

  private apply(key: string, value: T | null, revision: number): void {
    const known = this.entries.get(key);
    if (known && known.revision >= revision) return;
    const before = known?.value ?? undefined;
    this.entries.set(key, { value, revision });
    this.touched(key);
    if (value !== null || before !== undefined) this.onChange(key, value ?? undefined, before);
  }

  private fromWatch(entry: KvEntry): void {
    const value = entry.operation === 'PUT' ? this.decode(entry) : null;
    this.apply(entry.key, value, entry.revision);
    // The watch delivers in revision order: a delete it brought needs no marker once applied.
    const now = this.entries.get(entry.key);
    if (now && now.value === null && now.revision <= entry.revision) {
      this.entries.delete(entry.key);
      this.touched(entry.key);
    }
    this.position = Math.max(this.position, entry.revision);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i].revision <= this.position) this.waiters.splice(i, 1)[0].resolve();
    }
  }

  /** The copy's entry for `key` changed (or left): a refresh reading it meanwhile yields to that. */
  private touched(key: string): void {
    const watching = this.reading.get(key);
    if (watching) watching.changed = true;
  }

  private decode(entry: Pick<KvEntry, 'key' | 'value'>): T | null {
    try {
      return kvDecode<T>(entry.value);
    } catch (err) {
      // Neither the key past its first token (the rest may carry a phone number: kvToken is
      // reversible) nor the parser's message (Node's quotes the start of the value).
      this.logger.error(
        {
          keyKind: entry.key.split('.')[0],
          what: this.options.what,
          error: err instanceof Error ? err.name : 'unknown',
          bytes: entry.value.length,
        },
        'unreadable KV entry skipped',
      );
      return null;
    }
  }

  /**
   * A watch of every key's latest value, from the start of the bucket (also after a break: the
   * bucket's delete markers are purged after a while, so a watch resumed from an old revision could
   * miss a delete). The copy is complete once the watch has delivered everything the bucket held
   * when it began (the client says when: its consumer has nothing pending); keys the copy held
   * that this watch did not bring are gone from the bucket, and leave the copy.
   */
  private async watch(): Promise<void> {
    const kv = await this.kv();
    let loaded!: () => void;
    const complete = new Promise<void>((resolve) => (loaded = resolve));
    let returned = false;
    let initializedEarly = false;
    /** Entries to process before the copy is complete, once known. */
    let want = Infinity;
    const iterator = await kv.watch({
      // Called in the queue's order, after the entries before it were processed; or, if they all
      // arrived before the watch was set up, at once (then those queued so far are the ones to wait for).
      initializedFn: () => {
        if (returned) loaded();
        else initializedEarly = true;
      },
    });
    returned = true;
    this.iterator = iterator;
    /** Keys this watch brought, until the copy is complete. */
    let seen: Set<string> | undefined = new Set<string>();
    if (initializedEarly) {
      want = iterator.getReceived();
      if (iterator.getProcessed() >= want) loaded();
    }
    void (async () => {
      for await (const entry of iterator) {
        // A watch this copy dropped (`reload`) brings nothing more into it.
        if (iterator !== this.iterator) break;
        this.fromWatch(entry);
        if (!seen) continue;
        seen.add(entry.key);
        if (iterator.getProcessed() >= want) loaded();
      }
    })().then(
      () => this.ended(iterator, undefined),
      (err: unknown) => this.ended(iterator, err),
    );
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        complete,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(`${this.options.what}: bucket not loaded in ${this.options.catchUpTimeoutMs} ms`),
              ),
            this.options.catchUpTimeoutMs,
          );
        }),
      ]);
    } catch (err) {
      if (this.iterator === iterator) this.iterator = undefined;
      iterator.stop();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    // Dropped while it loaded: the watch that replaced it says when the copy is complete.
    if (this.iterator !== iterator) return;
    // The watch is past every revision up to here: a key it did not bring is no longer in the bucket.
    for (const [key, entry] of [...this.entries]) {
      if (!seen.has(key) && entry.revision <= this.position) this.forget(key);
    }
    seen = undefined;
    this.caughtUp = true;
    this.logger.info(
      { what: this.options.what, keys: this.entries.size, revision: this.position },
      'KV mirror loaded',
    );
  }

  /**
   * Removes the delete markers older than `olderThanMs` from the bucket, so that it holds what is
   * live plus recent deletes, not every key ever deleted (a new replica's load reads them all).
   * Reads the whole bucket: for a maintenance task, not a request.
   */
  async purgeOldDeletes(olderThanMs: number): Promise<void> {
    // The client's bucket has it; its KV interface does not list it.
    const kv = (await this.kv()) as KV & { purgeDeletes(olderMillis: number): Promise<unknown> };
    await kv.purgeDeletes(olderThanMs);
  }

  private ended(iterator: QueuedIterator<KvEntry>, err: unknown): void {
    if (this.stopped || iterator !== this.iterator) return;
    this.caughtUp = false;
    this.resume(err);
  }

  /** A new watch loads the copy again (soon, then backing off while it cannot). */
  private resume(err: unknown): void {
    this.logger.warn(
      { err, what: this.options.what },
      'KV watch ended; reading the bucket directly until it is loaded again',
    );
    const retry = (delayMs: number) => {
      const timer = setTimeout(() => {
        if (this.stopped) return;
        this.watch().catch((e: unknown) => {
          this.logger.warn(
            { err: e, what: this.options.what, retryInMs: delayMs * 2 },
            'KV watch did not resume',
          );
          retry(Math.min(delayMs * 2, 5000));
        });
      }, delayMs);
      timer.unref();
    };
    retry(250);
  }
}
