import { z } from 'zod';

/** A request-reply conversation over core NATS: one subject, one request shape, one reply shape. */
export interface RpcContract<
  Req extends z.ZodTypeAny = z.ZodTypeAny,
  Res extends z.ZodTypeAny = z.ZodTypeAny,
> {
  readonly kind: 'rpc';
  /** Versioned subject, `<service>.<action>.v<N>`. Never renamed in place: add a new version. */
  readonly subject: string;
  /** The service that answers this subject (used to name its circuit breaker). */
  readonly service: ServiceName;
  readonly request: Req;
  readonly reply: Res;
  /**
   * The version this one replaces, asked instead when nobody answers this subject (a service of
   * the previous release, during a rolling upgrade): how to put the request in its terms and read
   * its reply back.
   */
  readonly previous?: PreviousVersion;
  /**
   * The answer reads a collection that grows with history (ended sessions, call steps, attempts):
   * on FerretDB a scan of it, slower the longer the system runs. Callers wait for it up to
   * HISTORY_READ_TIMEOUT_MS, not the hot paths' RPC_TIMEOUT_MS: a slow answer to a read that would
   * succeed beats a 503. The answering service admits a bounded number of them at a time, per
   * account (`accountOf`, the main account that asks) and in all, counted apart by `reads` (see
   * `HistoryReadAdmission`).
   */
  readonly readsHistory?: {
    readonly accountOf: (request: never) => string;
    readonly reads: HistoryReadKind;
  };
  /**
   * The answer waits on the tenant's telephony provider (number-pool asking whether the provider
   * account holds the numbers being added): callers wait up to PROVIDER_ASK_TIMEOUT_MS, and the
   * service gives the provider PROVIDER_ASK_ANSWER_MS in all, so that it answers while they listen.
   */
  readonly asksProvider?: true;
}

/**
 * What a request reads of history; each kind has its own number admitted at once:
 * - `lookup`: one session's records (the session, its call steps and interactions, its PIN entries and
 *   callback attempts): an index lookup on MongoDB, on FerretDB a scan of the days since it began;
 * - `scan`: an account's history (a list, a count, a replay): on FerretDB a scan of every record kept.
 */
export type HistoryReadKind = 'lookup' | 'scan';

/**
 * The variables that set each kind's limits, per main account and in all (the scans' kept the names
 * all reads of history had before lookups were counted apart).
 */
export const HISTORY_READ_LIMIT_VARIABLES = {
  scan: { perAccount: 'HISTORY_READS_PER_ACCOUNT', inFlight: 'HISTORY_READS_IN_FLIGHT' },
  lookup: { perAccount: 'HISTORY_LOOKUPS_PER_ACCOUNT', inFlight: 'HISTORY_LOOKUPS_IN_FLIGHT' },
} as const satisfies Record<HistoryReadKind, { perAccount: string; inFlight: string }>;

/** How long a caller waits for an answer that reads history (see `readsHistory`). */
export const HISTORY_READ_TIMEOUT_MS = 10_000;

/**
 * How long the answering service works on a request that reads history: a second less than its
 * caller waits, so that it answers "unavailable" while the caller still listens, and the store
 * stops scanning for an answer nobody waits for. Every store command of the request takes what is
 * left of it (on FerretDB at 100,000 ended sessions a list's three reads each ran to their own 9 s).
 */
export const HISTORY_READ_ANSWER_MS = HISTORY_READ_TIMEOUT_MS - 1_000;

/** How long a caller waits for an answer that asks the tenant's provider (see `asksProvider`). */
export const PROVIDER_ASK_TIMEOUT_MS = 10_000;

/**
 * How long the answering service waits on the provider for one request, all its questions together:
 * well within PROVIDER_ASK_TIMEOUT_MS, so that a provider that does not answer makes a clear error,
 * never a caller's timeout (which would count against the breaker every tenant's requests share).
 */
export const PROVIDER_ASK_ANSWER_MS = 5_000;

/** `contract`, marked as waiting on the tenant's telephony provider. */
export function askingProvider<C extends RpcContract>(contract: C): C {
  return { ...contract, asksProvider: true };
}

/** `contract`, marked as reading history (`reads`), on behalf of the main account `accountOf` names. */
export function readingHistory<C extends RpcContract>(
  contract: C,
  reads: HistoryReadKind,
  accountOf: (request: z.output<C['request']>) => string,
): C {
  return { ...contract, readsHistory: { reads, accountOf: accountOf as (request: never) => string } };
}

/** The main account of a request with an account scope (subaccounts count as their main account). */
export const scopeAccount = (request: { scope: { accountId: string } }): string => request.scope.accountId;
/** The main account of a request that names it. */
export const namedAccount = (request: { accountId: string }): string => request.accountId;

export interface PreviousVersion {
  readonly contract: RpcContract;
  readonly request: (request: never) => unknown;
  readonly reply: (reply: never) => unknown;
}

/** A durable event on a JetStream stream. */
export interface EventContract<P extends z.ZodTypeAny = z.ZodTypeAny, S extends string = string> {
  readonly kind: 'event';
  /** Literal, so a handler of several events can tell them apart by subject. */
  readonly subject: S;
  readonly stream: StreamName;
  readonly payload: P;
  /** Top-level fields carried in a header, not the body (see `event-wire.ts`). */
  readonly inHeader: readonly string[];
}

export const SERVICE_NAMES = [
  'gateway',
  'session-service',
  'number-pool',
  'pin-auth',
  'call-router',
  'callback-dispatcher',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const STREAM_NAMES = ['MASKLINE_EVENTS'] as const;
export type StreamName = (typeof STREAM_NAMES)[number];

export function defineRpc<Req extends z.ZodTypeAny, Res extends z.ZodTypeAny>(
  service: ServiceName,
  subject: string,
  request: Req,
  reply: Res,
): RpcContract<Req, Res> {
  assertVersionedSubject(subject);
  return { kind: 'rpc', service, subject, request, reply };
}

/** `contract`, falling back to `previous` (in its terms) where only a previous release answers. */
export function withPreviousVersion<C extends RpcContract, P extends RpcContract>(
  contract: C,
  previous: P,
  translate: {
    request: (request: z.output<C['request']>) => z.input<P['request']>;
    reply: (reply: z.output<P['reply']>) => z.input<C['reply']>;
  },
): C {
  if (previous.service !== contract.service) throw new Error('a previous version is the same service’s');
  return { ...contract, previous: { contract: previous, ...translate } as PreviousVersion };
}

export function defineEvent<P extends z.ZodTypeAny, const S extends string>(
  stream: StreamName,
  subject: S,
  payload: P,
  options: {
    /**
     * Optional fields added after a release whose consumers read this event strictly: they travel
     * in a header, so those consumers neither see nor refuse them (`event-wire.ts`).
     */
    inHeader?: readonly string[];
  } = {},
): EventContract<P, S> {
  assertVersionedSubject(subject);
  return { kind: 'event', stream, subject, payload, inHeader: options.inHeader ?? [] };
}

function assertVersionedSubject(subject: string): void {
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*\.v[0-9]+$/.test(subject)) {
    throw new Error(`subject "${subject}" must be dot-separated lowercase tokens ending in .v<N>`);
  }
}

/** What a caller passes (before defaults and transforms). */
export type RpcRequestOf<C extends RpcContract> = z.input<C['request']>;
/** What a handler receives (after validation). */
export type RpcParsedRequestOf<C extends RpcContract> = z.output<C['request']>;
/** What a handler returns. */
export type RpcReplyInputOf<C extends RpcContract> = z.input<C['reply']>;
/** What a caller gets back. */
export type RpcReplyOf<C extends RpcContract> = z.output<C['reply']>;
export type EventPayloadInputOf<C extends EventContract> = z.input<C['payload']>;
export type EventPayloadOf<C extends EventContract> = z.output<C['payload']>;
