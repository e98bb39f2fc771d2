import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode as NatsErrorCode, NatsError, type NatsConnection } from 'nats';
import {
  CodedError,
  DEPENDENCY_FAULT_CODES,
  ErrorCodes,
  HISTORY_READ_TIMEOUT_MS,
  PROVIDER_ASK_TIMEOUT_MS,
  codedErrorFromZod,
  rpcEnvelopeSchema,
  type RpcContract,
  type RpcReplyOf,
  type RpcRequestOf,
} from '@maskline/contracts';
import { MetricsService } from '@maskline/observability';
import { BreakerRegistry } from '@maskline/resilience';
import { decodeJson, encodeJson } from './json-codec';
import { MESSAGING_OPTIONS, NATS_CONNECTION, type MessagingOptions } from './messaging.options';
import { outgoingHeaders } from './nats-headers';
import { BREAKER_CALL_CEILING_MS } from './breaker-ceiling';
import { isNatsRefusal } from './jetstream-retry';
import { isServerFault } from './rpc-server';

export interface RpcCallOptions {
  /** Overrides the service's default RPC timeout for this call. */
  timeoutMs?: number;
  /**
   * Whose breaker the call goes through: the service's own (`rpc:<service>`) unless given, else
   * one of its own (`rpc:<service>:<scope>`). For a call whose time one tenant can stretch (its own
   * slow endpoints called on the way): give its account, and that tenant's timeouts open its own
   * breaker, never the one every tenant's calls go through.
   */
  breakerScope?: string;
}

/**
 * The typed way to ask another service something: `request(Contract, payload)` does not compile
 * with a wrong payload, validates it before sending, goes through the downstream service's circuit
 * breaker with a timeout, and turns an error reply back into a `CodedError` with its code.
 */
@Injectable()
export class RpcClient {
  private readonly duration;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
    private readonly breakers: BreakerRegistry,
    metrics: MetricsService,
  ) {
    this.duration = metrics.histogram(
      'maskline_rpc_client_seconds',
      'Time to get an answer from another service',
      ['subject', 'outcome'],
    );
  }

  async request<C extends RpcContract>(
    contract: C,
    payload: RpcRequestOf<C>,
    options: RpcCallOptions = {},
  ): Promise<RpcReplyOf<C>> {
    const checked = contract.request.safeParse(payload);
    if (!checked.success) throw codedErrorFromZod(checked.error, 'request');
    const timeoutMs =
      options.timeoutMs ??
      (contract.readsHistory
        ? Math.max(this.options.rpcTimeoutMs, HISTORY_READ_TIMEOUT_MS)
        : contract.asksProvider
          ? Math.max(this.options.rpcTimeoutMs, PROVIDER_ASK_TIMEOUT_MS)
          : this.options.rpcTimeoutMs);
    const end = this.duration.startTimer({ subject: contract.subject });
    try {
      const data = await this.breakers.fire(
        options.breakerScope === undefined
          ? `rpc:${contract.service}`
          : { family: `rpc:${contract.service}`, key: options.breakerScope },
        () => this.sendOrAskPrevious(contract, payload, checked.data, timeoutMs),
        { isClientError: (err) => !countsAgainstBreaker(err) },
        // A breaker's settings are fixed when it is first used, so its own timeout stays out of the
        // way: each call carries its own NATS timeout, which the breaker counts as a failure.
        { ...this.options.breaker, timeoutMs: BREAKER_CALL_CEILING_MS },
      );
      const reply = contract.reply.safeParse(data);
      if (!reply.success) {
        throw new CodedError(
          ErrorCodes.BAD_REPLY,
          `${contract.subject} answered with a reply that breaks its contract`,
        );
      }
      end({ outcome: 'ok' });
      return reply.data as RpcReplyOf<C>;
    } catch (err) {
      end({ outcome: err instanceof CodedError ? err.code : 'error' });
      throw err;
    }
  }

  /**
   * Nobody answers the subject but the contract names the version it replaces: a service of the
   * previous release is running (a rolling upgrade). Ask that one, in its terms.
   */
  private async sendOrAskPrevious(
    contract: RpcContract,
    payload: unknown,
    parsed: unknown,
    timeoutMs: number,
  ): Promise<unknown> {
    try {
      return await this.send(contract, payload, timeoutMs);
    } catch (err) {
      const previous = contract.previous;
      // Only this side's "nobody listens": a callee's answer that nobody listened to it says nothing of this subject.
      if (!previous || ANSWERED.has(err as CodedError) || !isNoResponders(err)) throw err;
      const asked = previous.contract.request.safeParse(previous.request(parsed as never));
      if (!asked.success) throw codedErrorFromZod(asked.error, 'request');
      const answer = previous.contract.reply.safeParse(
        await this.send(previous.contract, asked.data, timeoutMs),
      );
      if (!answer.success) {
        throw new CodedError(
          ErrorCodes.BAD_REPLY,
          `${previous.contract.subject} answered outside its contract`,
        );
      }
      return previous.reply(answer.data as never);
    }
  }

  private async send(contract: RpcContract, payload: unknown, timeoutMs: number): Promise<unknown> {
    let reply;
    try {
      reply = await this.nc.request(contract.subject, encodeJson(payload), {
        timeout: timeoutMs,
        headers: outgoingHeaders(this.options.service),
      });
    } catch (err) {
      throw toCodedTransportError(contract, err);
    }
    const envelope = rpcEnvelopeSchema.safeParse(decodeJson(reply.data));
    if (!envelope.success) {
      throw new CodedError(
        ErrorCodes.BAD_REPLY,
        `${contract.subject} answered with something that is not an envelope`,
      );
    }
    if (!envelope.data.ok) {
      const answered = CodedError.fromWire(envelope.data.error);
      ANSWERED.add(answered);
      throw answered;
    }
    return envelope.data.data;
  }
}

/** Errors the called service answered with (as opposed to failures this side saw on the way). */
const ANSWERED = new WeakSet<CodedError>();

/**
 * Whether a failed call says the called service is unwell: no answer in time, nobody listening, a
 * broken reply, or its own fault answered; not a refusal of the request, nor its word that what it
 * stands on failed (`DEPENDENCY_FAULT_CODES`: its own breakers count those).
 */
export function countsAgainstBreaker(err: unknown): boolean {
  if (!(err instanceof CodedError)) return true;
  if (!isServerFault(err.code)) return false;
  return !(ANSWERED.has(err) && DEPENDENCY_FAULT_CODES.has(err.code));
}

/** Nobody listens on the subject (as opposed to a listener that did not answer in time). */
const NO_RESPONDERS = 'no-responders';

/** Whether the error says nobody listens on the subject: no replica of that version is running. */
export function isNoResponders(err: unknown): boolean {
  return err instanceof CodedError && err.details?.reason === NO_RESPONDERS;
}

function toCodedTransportError(contract: RpcContract, err: unknown): CodedError {
  // A request larger than NATS carries: asking again changes nothing, and the service is not at fault.
  if (isNatsRefusal(err)) {
    return new CodedError(
      ErrorCodes.NATS_REFUSED,
      `the request to ${contract.service} is too large to send`,
      {
        cause: err,
      },
    );
  }
  if (err instanceof NatsError) {
    if (err.code === NatsErrorCode.NoResponders) {
      return new CodedError(ErrorCodes.RPC_UNAVAILABLE, `${contract.service} is not available`, {
        retryable: true,
        cause: err,
        details: { reason: NO_RESPONDERS },
      });
    }
    if (err.code === NatsErrorCode.Timeout) {
      return new CodedError(ErrorCodes.RPC_TIMEOUT, `${contract.service} did not answer in time`, {
        retryable: true,
        cause: err,
      });
    }
  }
  return new CodedError(ErrorCodes.RPC_UNAVAILABLE, `${contract.service} could not be reached`, {
    retryable: true,
    cause: err,
  });
}
