import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import type { Logger } from 'pino';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import type { MetricsService } from '@maskline/observability';
import { DEFAULT_BREAKER_SETTINGS, type BreakerSettings } from './breaker-options';

type Thunk = () => Promise<unknown>;

/**
 * A breaker of one tenant's: named `<family>:<key>`, where the family says what it guards
 * (`rpc:call-router`, `provider-account`, `host`, `proxy-callback`) and the key whose it is (an
 * account, and its provider account or host). Metrics count it under its family, and its state is
 * labelled `scope="tenant"`; a breaker named by a plain string is shared (`scope="shared"`), its
 * name its family.
 */
export interface TenantBreaker {
  family: string;
  key: string;
}

export type BreakerName = string | TenantBreaker;

/** The name a breaker is known by (in logs, its state gauge, `notClosed`). */
export function breakerName(name: BreakerName): string {
  return typeof name === 'string' ? name : `${name.family}:${name.key}`;
}

export interface FireOptions {
  /** Errors for which this returns true do not count against the breaker (a caller's 4xx, say). */
  isClientError?: (err: unknown) => boolean;
}

interface Entry {
  breaker: CircuitBreaker<[Thunk], unknown>;
  /** What its events and latency are counted under. */
  family: string;
  /** Its state gauge's labels. */
  gauge: { breaker: string; scope: 'shared' | 'tenant' };
}

const STATE_VALUE = { closed: 0, halfOpen: 1, open: 2 } as const;
/** The most breakers `notClosed` lists (a health answer stays small when a thousand are open). */
const NOT_CLOSED_SHOWN_MAX = 100;
/** Slices of a breaker's rolling window (opossum's default, named here to time the rotation). */
const ROLLING_BUCKETS = 10;

/**
 * Named opossum breakers, one per downstream (a service, or a webhook host), or per tenant and
 * downstream (`TenantBreaker`). State changes are logged with the breaker's name; its state is a
 * gauge by name and scope (removed with the breaker), and its events and latency are counted by
 * family, so a breaker per tenant adds no series to them. The number of breakers is bounded: past the limit the
 * least recently used closed one is shut down (in constant time: the map is kept in order of use).
 */
export class BreakerRegistry {
  private readonly breakers = new Map<string, Entry>();
  /**
   * One timer per window length, rotating every breaker's window (opossum's `rotateBucketController`),
   * instead of two timers per breaker: with a breaker per tenant, thousands of timers a second.
   */
  private readonly rotations = new Map<number, { emitter: EventEmitter; timer: NodeJS.Timeout }>();
  private readonly events;
  private readonly state;
  private readonly latency;

  constructor(
    private readonly logger: Logger,
    metrics: MetricsService,
    private readonly defaults: BreakerSettings = DEFAULT_BREAKER_SETTINGS,
    private readonly maxBreakers = 10_000,
  ) {
    this.events = metrics.counter('maskline_breaker_events_total', 'Circuit breaker events', [
      'breaker',
      'event',
    ]);
    this.state = metrics.gauge(
      'maskline_breaker_state',
      'Breaker state: 0 closed, 1 half-open, 2 open; scope "shared" (every tenant) or "tenant" (one)',
      ['breaker', 'scope'],
    );
    this.latency = metrics.histogram('maskline_breaker_call_seconds', 'Latency of calls through a breaker', [
      'breaker',
    ]);
  }

  /**
   * Runs `call` through the breaker named `name`. When the breaker is open the call is not made and
   * a `RPC.CIRCUIT_OPEN` coded error is thrown: callers turn that into their fallback.
   */
  async fire<T>(
    named: BreakerName,
    call: () => Promise<T>,
    options: FireOptions = {},
    settings?: Partial<BreakerSettings>,
  ): Promise<T> {
    const name = breakerName(named);
    const entry = this.entry(named, settings, options.isClientError);
    // The most recently used last: eviction takes from the front.
    this.breakers.delete(name);
    this.breakers.set(name, entry);
    const end = this.latency.startTimer({ breaker: entry.family });
    try {
      return (await entry.breaker.fire(call)) as T;
    } catch (err) {
      if (isOpossumOpenError(err)) {
        throw new CodedError(ErrorCodes.CIRCUIT_OPEN, `${name} is temporarily unavailable`, {
          retryable: true,
          details: { breaker: name },
        });
      }
      if (isOpossumTimeout(err)) {
        throw new CodedError(ErrorCodes.RPC_TIMEOUT, `${name} did not answer in time`, {
          retryable: true,
          details: { breaker: name },
        });
      }
      throw err;
    } finally {
      end();
    }
  }

  isOpen(name: BreakerName): boolean {
    return this.breakers.get(breakerName(name))?.breaker.opened ?? false;
  }

  /** Whether the breaker is closed (one never used is): neither open nor half open. */
  isClosed(name: BreakerName): boolean {
    return this.breakers.get(breakerName(name))?.breaker.closed ?? true;
  }

  /**
   * Whether a call through this breaker would be refused now without being made: it is open, or
   * half open with its one trial call already made (the next call is the trial while none is).
   */
  refusesNow(name: BreakerName): boolean {
    const breaker = this.breakers.get(breakerName(name))?.breaker;
    return !!breaker && !breaker.closed && !breaker.pendingClose;
  }

  /**
   * The breakers not closed now (open or half-open; at most 100), for the operator's system view:
   * the shared ones first, so that tenants' own cannot push them out of it.
   */
  notClosed(): Array<{ name: string; state: 'open' | 'half-open' }> {
    const shared: Array<{ name: string; state: 'open' | 'half-open' }> = [];
    const tenants: Array<{ name: string; state: 'open' | 'half-open' }> = [];
    for (const [name, { breaker, gauge }] of this.breakers) {
      const state = breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : undefined;
      if (!state) continue;
      (gauge.scope === 'shared' ? shared : tenants).push({ name, state });
    }
    return [...shared, ...tenants].slice(0, NOT_CLOSED_SHOWN_MAX);
  }

  names(): string[] {
    return [...this.breakers.keys()];
  }

  shutdown(): void {
    for (const { breaker } of this.breakers.values()) breaker.shutdown();
    this.breakers.clear();
    for (const { timer } of this.rotations.values()) clearInterval(timer);
    this.rotations.clear();
  }

  /** The emitter that rotates the windows of breakers whose slice is `sliceMs` long. */
  private rotationEvery(sliceMs: number): EventEmitter {
    let rotation = this.rotations.get(sliceMs);
    if (!rotation) {
      const emitter = new EventEmitter();
      emitter.setMaxListeners(0);
      const timer = setInterval(() => emitter.emit('rotate'), sliceMs);
      timer.unref();
      rotation = { emitter, timer };
      this.rotations.set(sliceMs, rotation);
    }
    return rotation.emitter;
  }

  private entry(
    named: BreakerName,
    settings?: Partial<BreakerSettings>,
    isClientError?: (err: unknown) => boolean,
  ): Entry {
    const name = breakerName(named);
    const existing = this.breakers.get(name);
    if (existing) return existing;
    if (this.breakers.size >= this.maxBreakers) this.evictIdle();
    const s = { ...this.defaults, ...settings };
    const breaker = new CircuitBreaker<[Thunk], unknown>((thunk: Thunk) => thunk(), {
      name,
      timeout: s.timeoutMs,
      errorThresholdPercentage: s.errorThresholdPercentage,
      resetTimeout: s.resetTimeoutMs,
      volumeThreshold: s.volumeThreshold,
      rollingCountTimeout: s.rollingCountTimeoutMs,
      rollingCountBuckets: ROLLING_BUCKETS,
      rotateBucketController: this.rotationEvery(Math.floor(s.rollingCountTimeoutMs / ROLLING_BUCKETS)),
      // Nobody listens to its snapshots: no timer for them.
      enableSnapshots: false,
      errorFilter: (err: unknown) => (isClientError ? isClientError(err) : false),
    });
    const family = typeof named === 'string' ? named : named.family;
    const gauge: Entry['gauge'] = { breaker: name, scope: typeof named === 'string' ? 'shared' : 'tenant' };
    const count = (event: string) => this.events.inc({ breaker: family, event });
    breaker.on('open', () => {
      count('open');
      this.state.set(gauge, STATE_VALUE.open);
      this.logger.warn({ breaker: name }, 'circuit breaker opened');
    });
    breaker.on('halfOpen', () => {
      count('halfOpen');
      this.state.set(gauge, STATE_VALUE.halfOpen);
      this.logger.info({ breaker: name }, 'circuit breaker half-open: probing');
    });
    breaker.on('close', () => {
      count('close');
      this.state.set(gauge, STATE_VALUE.closed);
      this.logger.info({ breaker: name }, 'circuit breaker closed');
    });
    breaker.on('success', () => count('success'));
    breaker.on('failure', () => count('failure'));
    breaker.on('timeout', () => count('timeout'));
    breaker.on('reject', () => count('reject'));
    this.state.set(gauge, STATE_VALUE.closed);
    const entry = { breaker, family, gauge };
    this.breakers.set(name, entry);
    return entry;
  }

  private evictIdle(): void {
    // A tenant's, never a shared one (every tenant's work goes through those, and they are few):
    // the least recently used that is closed (an open one is kept: forgetting it would let its
    // downstream be hammered again); the least recently used when every tenant's is open.
    let closed: [string, Entry] | undefined;
    let any: [string, Entry] | undefined;
    for (const item of this.breakers) {
      if (item[1].gauge.scope === 'shared') continue;
      any ??= item;
      if (!item[1].breaker.opened && !item[1].breaker.halfOpen) {
        closed = item;
        break;
      }
    }
    const victim = closed ?? any;
    if (!victim) return;
    victim[1].breaker.shutdown();
    this.breakers.delete(victim[0]);
    this.state.remove(victim[1].gauge);
  }
}

function isOpossumOpenError(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'EOPENBREAKER';
}

function isOpossumTimeout(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'ETIMEDOUT' && !(err instanceof CodedError);
}
