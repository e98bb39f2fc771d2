import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  CodedError,
  ErrorCodes,
  GetNumberRouting,
  RecordAuthorizedCaller,
  VerifyPin,
  PIN_CALLER_SESSIONS_MAX,
  e164Schema,
  type CallAction,
  type RouteCall,
  type RpcReplyOf,
  type RoutingSession,
  type RpcParsedRequestOf,
  sameHolder,
} from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { CallEvents } from '../calls/call-events';
import { CallState, type Role } from '../calls/call-state';
import { OwnNumbers } from './own-numbers';
import { SessionFinder } from './session-finder';
import type { CallbackBudget } from '../proxy/proxy-callbacks';
import { ProxyInterceptor } from '../proxy/proxy-interceptor';
import { ProxyOutOfSession } from '../proxy/proxy-out-of-session';
import { twimlCallActions } from '../proxy/twiml-answer';

type Request = RpcParsedRequestOf<typeof RouteCall>;
type NumberRouting = RpcReplyOf<typeof GetNumberRouting>;

/** Tries, and the first wait between them, of recording an authorized caller (`recordAuthorizedCaller`). */
export const RECORD_TRIES = 5;
export const RECORD_RETRY_BASE_MS = 500;

/** What callers hear when nothing in a session says otherwise. */
export const SPOKEN = {
  pinPrompt: 'Please enter your PIN, followed by the pound key.',
  incorrectPin: 'That PIN is not correct.',
  goodbye: 'Goodbye.',
  locked: 'Too many wrong attempts. Please try again later. Goodbye.',
  unknownCaller: 'This number can only be reached from a registered phone. Goodbye.',
  notInService: 'This number is not in service. Goodbye.',
  nobodyToConnect: 'There is no one to connect you to yet. Goodbye.',
  intercepted: 'This call cannot be connected. Goodbye.',
} as const;

const other = (role: Role): Role => (role === 'first' ? 'second' : 'first');
const partyOf = (s: RoutingSession, role: Role) => (role === 'first' ? s.firstParty : s.secondParty);

/**
 * Plivo's masking call flow, as decisions:
 * - a party of a live session on the number → its play URL, then the other party (caller ID = the
 *   virtual number, ring timeout, time limit, recording); with force_pin_authentication, its PIN first;
 * - an unknown caller while PIN sessions live on the number → PIN entry (retries, wait, lockouts from
 *   pin-auth), then the counterpart of the party whose PIN matched;
 * - an unknown caller on a single-party session → the registered party (who is then bound to the
 *   caller: calling back reaches them);
 * - otherwise the unknown-caller message, or "not in service" when no session lives on the number.
 * Choices where several sessions share a number: the PIN prompt, the wrong-PIN message and the
 * unknown-caller message are a session's own only when every session on the number has the same;
 * otherwise a spoken default (never another customer's recording); the number of PIN attempts is
 * the strictest (smallest pin_retry) among them.
 */
@Injectable()
export class InboundCallDecider {
  private readonly decisions;

  constructor(
    private readonly finder: SessionFinder,
    private readonly own: OwnNumbers,
    private readonly rpc: RpcClient,
    private readonly events: CallEvents,
    private readonly state: CallState,
    private readonly interceptor: ProxyInterceptor,
    private readonly outOfSession: ProxyOutOfSession,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    this.decisions = metrics.counter('maskline_call_decisions_total', 'Routing decisions', [
      'stage',
      'outcome',
    ]);
  }

  /** What a caller on the line hears next: on the answer, after PIN entry, or on a call Maskline placed. */
  async decide(request: Request): Promise<CallAction[]> {
    switch (request.stage) {
      case 'answer':
        return this.answer(request);
      case 'pin':
        return this.pin(request);
      case 'outbound-answer':
        return this.outboundAnswer(request);
      default:
        throw new CodedError(ErrorCodes.VALIDATION, `stage ${request.stage} is not a decision`, {
          field: 'stage',
        });
    }
  }

  private count(stage: string, outcome: string) {
    this.decisions.inc({ stage, outcome });
  }

  private async answer(r: Request): Promise<CallAction[]> {
    // The Proxy Service's callbacks this answer makes (out-of-session, then intercept) share one
    // INTERCEPT_TIMEOUT_MS from the first: the gateway waits VOICE_DECISION_TIMEOUT_MS for it all.
    const budget: CallbackBudget = {};
    // Most calls are a party calling its session: found by (number, caller), the number's other sessions unread.
    const known = this.finder.knownSessionOfParty(r.virtualNumber, r.accountId, r.caller);
    if (known) return this.answerParty(known, r, budget);
    const isParty = (s: RoutingSession) => s.firstParty === r.caller || s.secondParty === r.caller;
    // Before treating the caller as a stranger, the store's word (once).
    const sessions = await this.finder.onNumber(r.virtualNumber, r.accountId, {
      freshUnless: (indexed) => indexed.some(isParty),
    });
    if (sessions.length === 0) {
      // A failed read is an outage (the caller hears "try again later"), not "not in service".
      const number = await this.rpc.request(GetNumberRouting, { number: r.virtualNumber });
      const outside = await this.outsideContact(r, number, budget);
      if (outside) return outside;
      this.count('answer', 'no-session');
      return this.noSession(number, r);
    }
    const own = sessions.find(isParty);
    if (own) return this.answerParty(own, r, budget);
    const pinSessions = sessions.filter((s) => s.settings.isPinAuthenticationRequired);
    if (pinSessions.length > 0) {
      this.count('answer', 'pin-prompt');
      return [this.gather(pinSessions, 1, false)];
    }
    const open = sessions
      .filter((s) => s.settings.createSessionWithSingleParty && (!s.firstParty || !s.secondParty))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
    if (open) {
      this.count('answer', 'single-party');
      return this.connectToRegistered(open, r.callId, r.caller);
    }
    // On a number a Proxy Service's sessions use, a stranger may be given a Session of their own.
    if (sessions.some((s) => s.proxyServiceSid)) {
      const number = await this.rpc.request(GetNumberRouting, { number: r.virtualNumber });
      const outside = await this.outsideContact(r, number, budget);
      if (outside) return outside;
    }
    this.count('answer', 'unknown-caller');
    const play = common(sessions.map((s) => s.settings.unknownCallerPlay));
    return [
      play ? { type: 'play', url: play } : { type: 'say', text: SPOKEN.unknownCaller },
      { type: 'hangup' },
    ];
  }

  /** A party of a live session on the number called: its PIN first when forced, else the other party. */
  private async answerParty(own: RoutingSession, r: Request, budget: CallbackBudget): Promise<CallAction[]> {
    // Refused before anything is recorded or any Proxy callback made for it.
    const loop = await this.loopRefused(r.caller, r.virtualNumber, 'answer');
    if (loop) return loop;
    const role: Role = own.firstParty === r.caller ? 'first' : 'second';
    if (own.settings.isPinAuthenticationRequired && own.settings.forcePinAuthentication) {
      this.count('answer', 'forced-pin');
      return [this.gather([own], 1, true)];
    }
    if (own.settings.isPinAuthenticationRequired) void this.recordAuthorizedCaller(own, r);
    if (!(await this.interceptor.allows(own, { type: 'Voice', resourceSid: r.callId, budget }))) {
      this.count('answer', 'intercepted');
      return [{ type: 'say', text: SPOKEN.intercepted }, { type: 'hangup' }];
    }
    this.count('answer', 'party');
    return this.connect(own, role, r.callId, r.caller);
  }

  /**
   * A caller in none of the number's open sessions, on a Proxy Service's number: the Service's
   * out-of-session callback may make a Session for them (then they are its party); null otherwise.
   */
  private async outsideContact(
    r: Request,
    number: NumberRouting,
    budget: CallbackBudget,
  ): Promise<CallAction[] | null> {
    // Only a caller with a number (a withheld one cannot be made a participant).
    // Still the webhook's holder's: moved since the gateway looked, its Service is the new holder's.
    if (!number.proxyServiceSid || !heldBy(number, r) || !e164Schema.safeParse(r.caller).success) return null;
    // Refused before the Service is asked: its callback could make the number a participant.
    const loop = await this.loopRefused(r.caller, r.virtualNumber, 'answer');
    if (loop) return loop;
    const made = await this.outOfSession.ask({
      type: 'Voice',
      resourceSid: r.callId,
      budget,
      from: r.caller,
      number: r.virtualNumber,
      owner: {
        accountId: number.accountId,
        subaccountId: number.subaccountId,
        serviceSid: number.proxyServiceSid,
      },
    });
    if (!made) return null;
    if (made.kind === 'twiml') {
      const actions = twimlCallActions(made.xml);
      if (actions) this.count('answer', 'out-of-session-twiml');
      return actions;
    }
    const sessions = await this.finder.onNumber(r.virtualNumber, r.accountId, { fresh: true });
    const own = sessions.find((s) => s.sessionId === made.sessionId);
    if (!own) return null;
    this.count('answer', 'out-of-session-created');
    return this.answerParty(own, r, budget);
  }

  /**
   * Bookkeeping for the PIN status callback (`AuthorizedCaller`): the call goes on without waiting
   * for it. Asked again on a fault that may pass (pin-auth answers once the event is stored, and the
   * event's id makes a repeat one event), spaced RECORD_RETRY_BASE_MS, doubling, up to
   * RECORD_TRIES tries; then logged as an error: that callback is lost. Before, one failed try
   * (a restart, a leader election) lost it with a warning.
   */
  private async recordAuthorizedCaller(own: RoutingSession, r: Request): Promise<void> {
    const payload = {
      accountId: own.accountId,
      sessionId: own.sessionId,
      virtualNumber: own.virtualNumber,
      callerNumber: r.caller,
      callId: r.callId,
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.rpc.request(RecordAuthorizedCaller, payload);
        return;
      } catch (err) {
        const code = err instanceof CodedError ? err.code : ErrorCodes.INTERNAL;
        const mayPass = err instanceof CodedError ? err.retryable : true;
        if (!mayPass || attempt >= RECORD_TRIES) {
          this.logger.error(
            { err, code, attempts: attempt },
            'authorized caller not recorded: its PIN status callback is lost',
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, RECORD_RETRY_BASE_MS * 2 ** (attempt - 1)));
      }
    }
  }

  /**
   * No live session: the number's own application when it has one, else a message. Its application
   * only while the number is still the webhook's holder's: moved to another account or another of
   * its account's holders since the gateway looked, the call is not handed to the new holder's.
   */
  private noSession(number: NumberRouting, r: Request): CallAction[] {
    if (number.fallbackAnswerUrl && heldBy(number, r))
      return [{ type: 'redirect', url: number.fallbackAnswerUrl }];
    return [{ type: 'say', text: SPOKEN.notInService }, { type: 'hangup' }];
  }

  private async pin(r: Request): Promise<CallAction[]> {
    // Refused before the digits are checked (an attempt recorded, perhaps a callback sent).
    const loop = await this.loopRefused(r.caller, r.virtualNumber, 'pin');
    if (loop) return loop;
    const attempt = r.context?.pinAttempt ?? 1;
    const isParty = (s: RoutingSession) => s.firstParty === r.caller || s.secondParty === r.caller;
    // Prompted as a registered caller: the store's word (once) before it is taken for an unknown one
    // (this replica's index may not hold its session yet).
    const sessions = await this.finder.onNumber(r.virtualNumber, r.accountId, {
      freshUnless: (indexed) => !r.context?.callerRegistered || indexed.some(isParty),
    });
    const pinSessions = sessions.filter((s) => s.settings.isPinAuthenticationRequired);
    if (pinSessions.length === 0) {
      this.count('pin', 'no-session');
      return [{ type: 'say', text: SPOKEN.notInService }, { type: 'hangup' }];
    }
    const maxAttempts = Math.min(...pinSessions.map((s) => s.settings.pinRetry)) + 1;
    // A registered caller (prompted as a party of a forced-PIN session) enters its own PIN: its digits
    // are checked against its own sessions alone, never a guess at another session's.
    const own = () =>
      pinSessions
        .filter(isParty)
        .map((s) => s.sessionId)
        .slice(0, PIN_CALLER_SESSIONS_MAX);
    // Registered only while the caller is a party of one of them now: the context says it was
    // prompted as one, but the caller is the webhook's (a tenant signs any it likes), and a caller
    // taken as registered is spared the number's bar. Not a party: an unknown caller, under that bar.
    const mine = r.context?.callerRegistered ? own() : [];
    const registered = mine.length > 0;
    const verdict = await this.rpc.request(VerifyPin, {
      accountId: r.accountId,
      subaccountId: r.subaccountId ?? null,
      virtualNumber: r.virtualNumber,
      digits: r.digits ?? '',
      callerNumber: r.caller,
      callerRegistered: registered,
      callId: r.callId,
      attempt,
      maxAttempts,
      ...(registered ? { onlySessions: mine } : {}),
    });
    if (verdict.outcome === 'match') {
      const session = await this.finder.byId(verdict.sessionId, r.virtualNumber, r.accountId);
      if (!session) return [{ type: 'say', text: SPOKEN.notInService }, { type: 'hangup' }];
      this.count('pin', 'match');
      const target = partyOf(session, other(verdict.party));
      if (!target) return this.connectToRegistered(session, r.callId, r.caller);
      return this.dialFrom(
        session,
        verdict.party,
        r.callId,
        r.caller,
        target,
        r.caller === partyOf(session, verdict.party),
      );
    }
    if (verdict.outcome === 'locked') {
      this.count('pin', `locked-${verdict.reason}`);
      return [{ type: 'say', text: SPOKEN.locked }, { type: 'hangup' }];
    }
    this.count('pin', 'mismatch');
    const incorrect = common(pinSessions.map((s) => s.settings.incorrectPinPlay));
    const sorry: CallAction = incorrect
      ? { type: 'play', url: incorrect }
      : { type: 'say', text: SPOKEN.incorrectPin };
    if (verdict.remainingAttempts <= 0)
      return [sorry, { type: 'say', text: SPOKEN.goodbye }, { type: 'hangup' }];
    const wait = Math.max(...pinSessions.map((s) => s.settings.pinRetryWaitSeconds));
    return [sorry, { type: 'pause', seconds: wait }, this.gather(pinSessions, attempt + 1, registered)];
  }

  private gather(sessions: RoutingSession[], attempt: number, registered: boolean): CallAction {
    const prompt = common(sessions.map((s) => s.settings.pinPromptPlay));
    const lengths = new Set(sessions.map((s) => (s.settings.generatePin ? s.settings.generatePinLength : 0)));
    const numDigits = lengths.size === 1 ? [...lengths][0] : 0;
    return {
      type: 'gather',
      next: { stage: 'pin', pinAttempt: attempt, callerRegistered: registered },
      numDigits,
      timeoutSeconds: 10,
      prompt: [prompt ? { play: prompt } : { say: SPOKEN.pinPrompt }],
    };
  }

  /** A party called in: play its message, dial the other party (or, single-party, whoever it last talked to). */
  private async connect(
    s: RoutingSession,
    role: Role,
    callId: string,
    caller: string,
  ): Promise<CallAction[]> {
    const target = partyOf(s, other(role)) ?? (await this.state.boundTo(s.sessionId));
    if (!target) return [{ type: 'say', text: SPOKEN.nobodyToConnect }, { type: 'hangup' }];
    return this.dialFrom(s, role, callId, caller, target, true);
  }

  /**
   * A call from one of Maskline's own numbers in use to the number called (a leg it placed to a
   * party that is a virtual number, of any account; `OwnNumbers`): dialled on, it would call on from this number, round and round, each
   * hop a leg on the account's bill. People call from phones: it is hung up wherever a decision
   * would put it through or act on it (a party's call, the digits it entered at a PIN prompt, a
   * single-party session, a bridge, a Proxy Service's out-of-session callback). Only there: the
   * number's own application, the unknown-caller message and the PIN prompt dial nobody themselves
   * and are answered as to anyone.
   */
  private async loopRefused(caller: string, called: string, stage: string): Promise<CallAction[] | null> {
    if (!(await this.own.placedCallFrom(caller, called))) return null;
    this.count(stage, 'from-virtual-number');
    return [{ type: 'hangup' }];
  }

  /** Someone reached a single-party session: connect them to the registered party and remember them. */
  private async connectToRegistered(
    s: RoutingSession,
    callId: string,
    caller: string,
  ): Promise<CallAction[]> {
    // Refused before the caller is remembered as the one the party last talked to.
    const loop = await this.loopRefused(caller, s.virtualNumber, 'connect');
    if (loop) return loop;
    const registeredRole: Role = s.firstParty ? 'first' : 'second';
    const registered = partyOf(s, registeredRole) as string;
    await this.state.bind(s.virtualNumber, s.sessionId, caller);
    return this.dialFrom(s, other(registeredRole), callId, caller, registered, false);
  }

  private async dialFrom(
    s: RoutingSession,
    callerRole: Role,
    callId: string,
    caller: string,
    target: string,
    playCallerMessage: boolean,
  ): Promise<CallAction[]> {
    const loop = await this.loopRefused(caller, s.virtualNumber, 'connect');
    if (loop) return loop;
    const calleeRole = other(callerRole);
    // Both are written before the provider hears the decision (its follow-ups need the context);
    // in parallel, as neither depends on the other.
    await Promise.all([
      this.state.remember(s.virtualNumber, callId, {
        sessionId: s.sessionId,
        accountId: s.accountId,
        virtualNumber: s.virtualNumber,
        callerRole,
        calleeRole,
        caller,
        callee: target,
        recordFormat: s.settings.record ? s.settings.recordFileFormat : undefined,
      }),
      this.events.step(
        `${callerRole}-party-answered`,
        {
          accountId: s.accountId,
          sessionId: s.sessionId,
          virtualNumber: s.virtualNumber,
          callId,
          from: caller,
          to: target,
        },
        callerRole === 'first'
          ? { firstPartyCallUuid: callId, status: 'answered' }
          : { secondPartyCallUuid: callId, status: 'answered' },
      ),
    ]);
    const actions: CallAction[] = [];
    const message = callerRole === 'first' ? s.settings.firstPartyPlayUrl : s.settings.secondPartyPlayUrl;
    if (playCallerMessage && message) actions.push({ type: 'play', url: message });
    actions.push({
      type: 'dial',
      number: target,
      callerId: s.virtualNumber,
      timeoutSeconds: s.settings.ringTimeoutSeconds,
      timeLimitSeconds: s.settings.callTimeLimitSeconds,
      record: s.settings.record,
      recordFormat: s.settings.recordFileFormat,
      onEnded: { stage: 'dial-ended' },
      onLegEvent: { stage: 'dial-event' },
      onRecording: s.settings.record ? { stage: 'recording' } : undefined,
    });
    return actions;
  }

  /** initiate_call_to_first_party: the first party answered the call Maskline placed; bridge to the second. */
  private async outboundAnswer(r: Request): Promise<CallAction[]> {
    const sessionId = r.context?.sessionId;
    const session = sessionId ? await this.finder.byId(sessionId, r.virtualNumber, r.accountId) : undefined;
    if (!session || !session.firstParty)
      return [{ type: 'say', text: SPOKEN.notInService }, { type: 'hangup' }];
    this.count('outbound-answer', 'bridge');
    return this.connect(session, 'first', r.callId, session.firstParty);
  }
}

/** The value every session agrees on, or undefined when they differ or none has one. */
function common(values: Array<string | null>): string | undefined {
  const set = new Set(values);
  return set.size === 1 ? (values[0] ?? undefined) : undefined;
}

/**
 * Whether the number is still the webhook's holder's, as number-pool says now: its account's, and
 * the same subaccount (or the main account) when the webhook says whose it was (a gateway of an
 * earlier release does not: then its account's is enough).
 */
function heldBy(number: Pick<NumberRouting, 'accountId' | 'subaccountId'>, r: Request): boolean {
  return (
    number.accountId === r.accountId &&
    (r.subaccountId === undefined || sameHolder(number.subaccountId, r.subaccountId))
  );
}
