import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { headers as natsHeaders, type Msg, type NatsConnection, type Subscription } from 'nats';
import type { Logger } from 'pino';
import {
  SERVER_FAULT_CODES,
  CORRELATION_ID_HEADER,
  SENDER_HEADER,
  SERVICE_NAMES,
  CodedError,
  ErrorCodes,
  HISTORY_READ_ANSWER_MS,
  codedErrorFromZod,
  type HistoryReadKind,
  type RpcContract,
  type RpcEnvelope,
  type RpcParsedRequestOf,
  type RpcReplyInputOf,
} from '@maskline/contracts';
import { LOGGER, MetricsService, runWithContext, type RequestContext } from '@maskline/observability';
import { HandlerDiscovery } from './handler-discovery';
import {
  HistoryReadAdmission,
  accountNamedBy,
  subaccountNamedBy,
  type HistoryReadPass,
} from './history-read-admission';
import { InFlightTracker } from './in-flight-tracker';
import { decodeJson, encodeJson } from './json-codec';
import { REPLY_HEADER_ROOM_BYTES } from './reply-budget';
import { MESSAGING_OPTIONS, NATS_CONNECTION, type MessagingOptions } from './messaging.options';
import { incomingCorrelationId } from './nats-headers';
import { RPC_ERROR_FILTER, RpcErrorFilter } from './rpc-error-filter';
import { RPC_HANDLER_METADATA } from './rpc-handler.decorator';

/** An answer this slow is logged at warn (a caller waiting 5–10 s has likely given up). */
const SLOW_ANSWER_MS = 5000;
/** A request still running this long is logged at warn, once: one that may never end says so. */
const STILL_RUNNING_MS = 15_000;

/**
 * Subscribes every `@RpcHandler` method to its subject in this service's queue group, so replicas
 * share the load. Shutdown drains the subscriptions and waits for in-flight handlers.
 */
@Injectable()
export class RpcServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly subscriptions: Subscription[] = [];
  private readonly inFlight = new InFlightTracker();
  private readonly duration;
  /** Requests being answered, by start: the watchdog's view. */
  private readonly running = new Map<object, { subject: string; correlationId: string; start: number }>();
  private watchdog?: NodeJS.Timeout;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
    @Inject(RPC_ERROR_FILTER) private readonly filter: RpcErrorFilter,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly discovery: HandlerDiscovery,
    private readonly historyReads: HistoryReadAdmission,
    metrics: MetricsService,
  ) {
    this.duration = metrics.histogram('maskline_rpc_server_seconds', 'Time to answer a NATS request', [
      'subject',
      'outcome',
    ]);
  }

  private readonly extra: Array<{ contract: RpcContract; invoke: (...args: unknown[]) => Promise<unknown> }> =
    [];

  /** Adds a handler that is not a decorated method (e.g. one whose subject depends on config). */
  addHandler<C extends RpcContract>(
    contract: C,
    handler: (request: RpcParsedRequestOf<C>) => Promise<RpcReplyInputOf<C>>,
  ) {
    this.extra.push({
      contract,
      invoke: async (request: unknown) => handler(request as RpcParsedRequestOf<C>),
    });
  }

  onApplicationBootstrap(): void {
    const handlers = [
      ...this.discovery
        .find<RpcContract>(RPC_HANDLER_METADATA)
        .map((h) => ({ contract: h.metadata, invoke: h.invoke })),
      ...this.extra,
    ];
    const seen = new Set<string>();
    for (const { contract, invoke } of handlers) {
      if (seen.has(contract.subject)) throw new Error(`two handlers for ${contract.subject}`);
      seen.add(contract.subject);
      const sub = this.nc.subscribe(contract.subject, {
        queue: this.options.service,
        callback: (err, msg) => {
          if (err) {
            this.logger.error({ err, subject: contract.subject }, 'subscription error');
            return;
          }
          void this.inFlight.track(this.answer(contract, msg, invoke));
        },
      });
      this.subscriptions.push(sub);
    }
    this.logger.info({ subjects: [...seen] }, 'answering NATS requests');
    this.watchdog = setInterval(() => this.reportLongRunning(), STILL_RUNNING_MS / 3);
    this.watchdog.unref();
  }

  private reportLongRunning(): void {
    const now = performance.now();
    for (const [key, r] of this.running) {
      if (now - r.start < STILL_RUNNING_MS) continue;
      this.logger.warn(
        { subject: r.subject, correlationId: r.correlationId, ms: Math.round(now - r.start) },
        'request still running',
      );
      this.running.delete(key); // reported once
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.watchdog);
    await Promise.allSettled(this.subscriptions.map((s) => s.drain()));
    const left = await this.inFlight.settle(this.options.shutdownGraceMs);
    if (left > 0) this.logger.warn({ left }, 'shutdown grace elapsed with requests still running');
  }

  private async answer(
    contract: RpcContract,
    msg: Msg,
    invoke: (...args: unknown[]) => Promise<unknown>,
  ): Promise<void> {
    const correlationId = incomingCorrelationId(msg.headers);
    const key = {};
    this.running.set(key, { subject: contract.subject, correlationId, start: performance.now() });
    try {
      await this.answerWithin(correlationId, contract, msg, invoke);
    } finally {
      this.running.delete(key);
    }
  }

  private async answerWithin(
    correlationId: string,
    contract: RpcContract,
    msg: Msg,
    invoke: (...args: unknown[]) => Promise<unknown>,
  ): Promise<void> {
    // A read of history is answered within HISTORY_READ_ANSWER_MS of its arrival, admission included:
    // every store command made for it takes what is left (see `historyReadOptions`).
    const history = contract.readsHistory;
    const context: RequestContext = {
      correlationId,
      deadline: history ? Date.now() + HISTORY_READ_ANSWER_MS : undefined,
    };
    const passes = new Map<HistoryReadKind, HistoryReadPass>();
    await runWithContext(context, async () => {
      const end = this.duration.startTimer({ subject: contract.subject });
      let envelope: RpcEnvelope<unknown>;
      try {
        const parsed = contract.request.safeParse(decodeJson(msg.data));
        if (!parsed.success) throw codedErrorFromZod(parsed.error, 'request');
        // Admitted among the reads of history allowed at once: a contract that reads history before
        // its handler runs; any other request made for a tenant (through the gateway) at its first read
        // of history (the repositories ask). Services' own requests to each other (a callback's target,
        // a call's route) are the system's work, bounded by their consumers.
        if (history || isForTenant(msg)) {
          const account = history ? history.accountOf(parsed.data as never) : accountNamedBy(parsed.data);
          const subaccount = subaccountNamedBy(parsed.data);
          const passOf = (kind: HistoryReadKind) => {
            let pass = passes.get(kind);
            if (!pass) passes.set(kind, (pass = this.historyReads.pass(kind, account, subaccount)));
            return pass;
          };
          // Its own kind (a scan for a request not marked), and a scan's as well when a read asks.
          context.admitHistoryRead = (kind) => passOf(kind ?? history?.reads ?? 'scan').admit();
          if (history) await passOf(history.reads).admit();
        }
        const result = await invoke(parsed.data);
        const reply = contract.reply.safeParse(result);
        if (!reply.success) {
          this.logger.error(
            { subject: contract.subject, issues: reply.error.issues.slice(0, 5) },
            'reply breaks contract',
          );
          throw new CodedError(ErrorCodes.BAD_REPLY, 'internal error');
        }
        envelope = { ok: true, data: reply.data };
        const ms = Math.round(end({ outcome: 'ok' }) * 1000);
        if (ms >= SLOW_ANSWER_MS)
          this.logger.warn({ subject: contract.subject, ms }, 'request answered slowly');
        else this.logger.debug({ subject: contract.subject, ms }, 'request answered');
      } catch (err) {
        const wire = this.filter.toWire(err);
        envelope = { ok: false, error: wire };
        // What this service sent on was refused by NATS: a bug of its own, though no breaker counts it.
        const clientError = !isServerFault(wire.code) && wire.code !== ErrorCodes.NATS_REFUSED;
        end({ outcome: clientError ? 'rejected' : 'error' });
        if (clientError) {
          this.logger.info(
            { subject: contract.subject, code: wire.code, field: wire.field },
            'request rejected',
          );
        } else {
          this.logger.error({ subject: contract.subject, code: wire.code, err }, 'request failed');
        }
      }
      // The slots go back before the answer: a caller that asks again on it finds them free.
      await Promise.all([...passes.values()].map((p) => p.close()));
      if (!msg.reply) {
        this.logger.warn({ subject: contract.subject }, 'request without a reply subject: nothing to answer');
        return;
      }
      const h = natsHeaders();
      h.set(CORRELATION_ID_HEADER, correlationId);
      let body = encodeJson(envelope);
      if (body.length > replyBytesAllowed(this.nc)) {
        // NATS refuses a message over its max_payload whole: the caller would hear nothing until its
        // timeout, and count it against the service. Told at once instead (a contract whose reply can
        // grow pages it: `pageWithinReplyBudget`).
        this.logger.error(
          { subject: contract.subject, bytes: body.length, allowed: replyBytesAllowed(this.nc) },
          'reply too large for NATS; answered with an error',
        );
        body = encodeJson({
          ok: false,
          error: { code: ErrorCodes.INTERNAL, message: 'reply too large', retryable: false },
        } satisfies RpcEnvelope<unknown>);
      }
      msg.respond(body, { headers: h });
    });
  }
}

/** The most a reply's body may take on this connection: the server's max_payload, less room for its headers. */
function replyBytesAllowed(nc: NatsConnection): number {
  return (nc.info?.max_payload ?? 1024 * 1024) - REPLY_HEADER_ROOM_BYTES;
}

export function isServerFault(code: string): boolean {
  return SERVER_FAULT_CODES.has(code);
}

/** A request made for a tenant: from the gateway, or from a client that is none of the services. */
function isForTenant(msg: Msg): boolean {
  const sender = msg.headers?.get(SENDER_HEADER) ?? '';
  return sender === 'gateway' || !(SERVICE_NAMES as readonly string[]).includes(sender);
}
