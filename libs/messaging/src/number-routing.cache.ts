import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import {
  CodedError,
  ErrorCodes,
  GetNumberRouting,
  VirtualNumberChanged,
  type RpcReplyOf,
} from '@maskline/contracts';
import { UnauthenticatedLookups } from '@maskline/resilience';
import { InvalidatedCache } from './invalidated-cache';
import { NATS_CONNECTION } from './messaging.options';
import { RpcClient } from './rpc-client';
import { LOGGER } from '@maskline/observability';

export type NumberRouting = RpcReplyOf<typeof GetNumberRouting>;

/** Backstops: a number's routing, and a number known to be in no inventory, without word of a change. */
const TTL_MS = 30_000;
const MISS_TTL_MS = 5_000;

/**
 * A number's owner and provider credentials, kept per replica (webhooks come in bursts per call;
 * messages relayed from it, in bursts per conversation): the gateway's webhook check and the call
 * router's relay read it.
 * number-pool announces every change to a number (`events.number.changed.v1`); every replica
 * hears it and forgets the number, so new credentials apply to the next webhook. A lookup that
 * fails (number-pool down, NATS down) throws: it is never mistaken for "no credentials".
 */
@Injectable()
export class NumberRoutingCache implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly cache = new InvalidatedCache<string, NumberRouting | null>({
    ttlMs: TTL_MS,
    maxEntries: 50_000,
    // In fair shares by tenant: one with many numbers cannot push other tenants' out.
    ownerOf: (number, routing) => routing?.accountId ?? number,
  });
  /** Numbers in no inventory, apart: a flood of made-up numbers cannot push real ones out. */
  private readonly misses = new InvalidatedCache<string, true>({ ttlMs: MISS_TTL_MS, maxEntries: 10_000 });
  /** Lookups for webhooks not yet authenticated (which anyone may send, naming any number): bounded. */
  private readonly unauthenticated = new UnauthenticatedLookups('number');

  constructor(
    private readonly rpc: RpcClient,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await InvalidatedCache.followTogether(
      [this.cache, this.misses],
      this.nc,
      VirtualNumberChanged,
      (p) => p.number,
      (err) => this.logger.warn({ err }, 'number changes missed: webhook credentials are read afresh'),
    );
  }

  /** Before the connection drains (its closer runs on application shutdown). */
  beforeApplicationShutdown(): void {
    this.cache.stopFollowing();
    this.misses.stopFollowing();
  }

  /**
   * The number's routing, or null when it is in no inventory. `unauthenticated`: for a request not
   * yet authenticated (a webhook, whose signature is checked with the number's credentials once they
   * are read): the read it needs, if any, waits its turn among such reads (`UnauthenticatedLookups`),
   * and may be refused as unavailable under a flood of them; an authenticated request never waits
   * for one.
   */
  async get(number: string, options: { unauthenticated?: boolean } = {}): Promise<NumberRouting | null> {
    if (this.misses.peek(number)) return null;
    // Not cached, for a request not yet authenticated: its turn first, then the cache's load (shared
    // with whoever asks while it runs, as the cache shares it: never with a request still waiting,
    // and never a load begun before a change to the number was heard).
    const load = () => this.cached(number);
    return options.unauthenticated
      ? this.unauthenticated.load(this.cache.peek(number) !== undefined, load)
      : load();
  }

  private cached(number: string): Promise<NumberRouting | null> {
    return this.cache.get(
      number,
      () => this.lookup(number),
      (value) => (value ? TTL_MS : 0),
    );
  }

  /**
   * Asks number-pool, as a load of both caches: a change to the number announced while it is
   * asked (the number added, say) keeps either answer from being kept. (Noting the miss after the
   * lookup, as a load of its own, kept a number added meanwhile as unknown for MISS_TTL_MS: its
   * webhooks were refused with 403.)
   */
  private async lookup(number: string): Promise<NumberRouting | null> {
    const asked: { routing?: NumberRouting | null } = {};
    await this.misses.get(
      number,
      async () => {
        asked.routing = await this.ask(number);
        return true as const;
      },
      () => (asked.routing ? 0 : MISS_TTL_MS),
    );
    // Not asked here (another lookup was under way in the misses cache alone, which the two caches'
    // joint invalidation rules out today): asked, rather than answering what was not asked.
    return asked.routing === undefined ? this.ask(number) : asked.routing;
  }

  private async ask(number: string): Promise<NumberRouting | null> {
    try {
      return await this.rpc.request(GetNumberRouting, { number }, { timeoutMs: 800 });
    } catch (err) {
      if (err instanceof CodedError && err.code === ErrorCodes.NOT_FOUND) return null;
      throw err;
    }
  }
}
