import {
  CodedError,
  DEFAULT_SESSION_SETTINGS,
  ErrorCodes,
  GetNumberRouting,
  RecordAuthorizedCaller,
  VerifyPin,
  type RouteCall,
  type RoutingSession,
  type RpcContract,
  type RpcParsedRequestOf,
  type SessionSettings,
} from '@maskline/contracts';
import type { NumberRoutingCache, RpcClient } from '@maskline/messaging';
import { expectEventually } from '@maskline/testing';
import type { MetricsService } from '@maskline/observability';
import type { Logger } from 'pino';
import type { CallEvents } from '../calls/call-events';
import type { CallState, ConnectedCall } from '../calls/call-state';
import type { CallbackBudget } from '../proxy/proxy-callbacks';
import type { InterceptedInteraction, ProxyInterceptor } from '../proxy/proxy-interceptor';
import type { OutsideContact, ProxyOutOfSession } from '../proxy/proxy-out-of-session';
import { InboundCallDecider, SPOKEN } from './inbound-call-decider';
import { OwnNumbers } from './own-numbers';
import type { SessionFinder } from './session-finder';

const VN = '+14155550100';
const ACCOUNT = 'MA000000000000000001';
const [ALICE, BOB, STRANGER] = ['+16285550001', '+16285550002', '+16285550099'];
const MEDIA = 'https://media.maskline.test';

let seq = 0;
function session(
  settings: Partial<SessionSettings> = {},
  parties: Partial<RoutingSession> = {},
): RoutingSession {
  seq++;
  return {
    sessionId: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    accountId: ACCOUNT,
    subaccountId: null,
    virtualNumber: VN,
    firstParty: ALICE,
    secondParty: BOB,
    status: 'active',
    expiresAt: '2099-01-01T00:00:00.000Z',
    createdAt: `2026-11-28T10:00:${String(seq % 60).padStart(2, '0')}.000Z`,
    settings: { ...DEFAULT_SESSION_SETTINGS, ...settings },
    ...parties,
  };
}
const pin = (extra: Partial<SessionSettings> = {}) => ({ isPinAuthenticationRequired: true, ...extra });

type Verdict = RpcParsedRequestOf<typeof VerifyPin> extends never ? never : Record<string, unknown>;

/** The decider with every port automocked: sessions on the number, the PIN verdict, the number's routing. */
function decider(world: {
  sessions: RoutingSession[];
  fresh?: RoutingSession[];
  verdict?: Verdict;
  fallbackAnswerUrl?: string | null;
  /** Errors pin-auth answers the first RecordAuthorizedCaller requests with, in turn. */
  recordFailures?: Error[];
  /** Who holds the number now, as number-pool says (by default the account's main account). */
  numberHolder?: { accountId: string; subaccountId: string | null };
  boundTo?: string | null;
  /** Numbers with live sessions on them, as the index knows (Maskline's own numbers in use). */
  servedNumbers?: string[];
  /** Of those, the ones whose provider never confirmed that the account adding them holds them. */
  unconfirmedNumbers?: string[];
  /**
   * What the sessions on a served number would dial (their parties, and whom its single-party ones
   * were bound to lately): by default the number called (VN), as a leg Maskline placed to it would.
   */
  dialledFrom?: Record<string, { parties: string[]; boundTo?: string[] }>;
  /** Whether the finder's index is loaded (else it knows no party, and reads the store). */
  indexLoaded?: boolean;
  /** The number's Proxy Service, with its out-of-session callback and intercept. */
  proxy?: { serviceSid: string; outOfSession: ProxyOutOfSession; interceptor: ProxyInterceptor };
}) {
  const asked: Array<{ subject: string; payload: unknown }> = [];
  const remembered: Array<{ vn: string; callId: string; call: ConnectedCall }> = [];
  const steps: Array<{ step: string; call: Record<string, unknown>; extra: Record<string, unknown> }> = [];
  const bound: Array<[string, string]> = [];
  const finder = {
    servesNumber: jest.fn((number: string) => (world.servedNumbers ?? []).includes(number)),
    mayServe: jest.fn((number: string) => (world.servedNumbers ?? []).includes(number)),
    servesParty: jest.fn(
      async (number: string, party: string) =>
        (world.servedNumbers ?? []).includes(number) &&
        (world.dialledFrom?.[number]?.parties ?? [VN]).includes(party),
    ),
    // The index holds world.sessions: a party among them is known without reading the number.
    knownSessionOfParty: jest.fn((_vn: string, _account: string, caller: string) =>
      world.indexLoaded === false
        ? undefined
        : world.sessions.find((s) => s.firstParty === caller || s.secondParty === caller),
    ),
    // The index holds world.sessions; the store, world.fresh when given.
    onNumber: jest.fn(
      async (
        _vn: string,
        _account: string,
        options: { fresh?: boolean; freshUnless?: (s: RoutingSession[]) => boolean } = {},
      ) =>
        (options.fresh || options.freshUnless?.(world.sessions) === false) && world.fresh
          ? world.fresh
          : world.sessions,
    ),
    byId: jest.fn(async (id: string) =>
      [...world.sessions, ...(world.fresh ?? [])].find((s) => s.sessionId === id),
    ),
  } as unknown as SessionFinder;
  const rpc = {
    request: jest.fn(async (contract: RpcContract, payload: unknown) => {
      asked.push({ subject: contract.subject, payload });
      if (contract.subject === VerifyPin.subject) return world.verdict;
      if (contract.subject === GetNumberRouting.subject)
        return {
          fallbackAnswerUrl: world.fallbackAnswerUrl ?? null,
          accountId: world.numberHolder?.accountId ?? ACCOUNT,
          subaccountId: world.numberHolder?.subaccountId ?? null,
          proxyServiceSid: world.proxy?.serviceSid ?? null,
        };
      if (contract.subject === RecordAuthorizedCaller.subject) {
        const failure = world.recordFailures?.shift();
        if (failure) throw failure;
        return {};
      }
      throw new Error(`unexpected ${contract.subject}`);
    }),
  } as unknown as RpcClient;
  const events = {
    step: jest.fn(async (step: string, call: Record<string, unknown>, extra: Record<string, unknown>) => {
      steps.push({ step, call, extra });
    }),
  } as unknown as CallEvents;
  const state = {
    remember: jest.fn(
      async (vn: string, callId: string, call: ConnectedCall) => void remembered.push({ vn, callId, call }),
    ),
    bind: jest.fn(
      async (_vn: string, sessionId: string, number: string) => void bound.push([sessionId, number]),
    ),
    // A single-party session of another number's (singlePartyOn) carries whom it last talked to.
    boundTo: jest.fn(async () => world.boundTo ?? null),
    boundLately: jest.fn(
      async (number: string, to: string) => world.dialledFrom?.[number]?.boundTo?.includes(to) ?? false,
    ),
  } as unknown as CallState;
  const numbers = {
    get: jest.fn(async (n: string) => ({
      status: 'active',
      heldConfirmed: !(world.unconfirmedNumbers ?? []).includes(n),
    })),
  } as unknown as NumberRoutingCache;
  const metrics = { counter: () => ({ inc: () => undefined }) } as unknown as MetricsService;
  const logger = { warn: jest.fn(), error: jest.fn() };
  return {
    d: new InboundCallDecider(
      finder,
      new OwnNumbers(finder, numbers, state),
      rpc,
      events,
      state,
      world.proxy?.interceptor ?? noIntercept,
      world.proxy?.outOfSession ?? noOutOfSession,
      logger as unknown as Logger,
      metrics,
    ),
    logger,
    asked,
    remembered,
    steps,
    bound,
    finder,
    state,
  };
}

const request = (
  stage: 'answer' | 'pin' | 'outbound-answer',
  caller: string,
  extra: Partial<RpcParsedRequestOf<typeof RouteCall>> = {},
): RpcParsedRequestOf<typeof RouteCall> => ({
  provider: 'plivo',
  stage,
  virtualNumber: VN,
  accountId: ACCOUNT,
  callId: 'CALL-1',
  caller,
  context: null,
  ...extra,
});

const dialTo = (number: string, s: RoutingSession) => ({
  type: 'dial',
  number,
  callerId: VN,
  timeoutSeconds: s.settings.ringTimeoutSeconds,
  timeLimitSeconds: s.settings.callTimeLimitSeconds,
  record: s.settings.record,
  recordFormat: s.settings.recordFileFormat,
  onEnded: { stage: 'dial-ended' },
  onLegEvent: { stage: 'dial-event' },
  onRecording: s.settings.record ? { stage: 'recording' } : undefined,
});

describe('inbound call decisions (Plivo’s masking flow)', () => {
  describe('a call from one of Maskline’s numbers in use (a leg it placed to a party that is a virtual number)', () => {
    const OTHER_VN = '+14155550177';
    const pinMatch = (s: RoutingSession, party: 'first' | 'second') =>
      decider({
        sessions: [s],
        servedNumbers: [VN, OTHER_VN],
        verdict: { outcome: 'match', sessionId: s.sessionId, party },
      });
    const pinFrom = (caller: string) =>
      request('pin', caller, {
        digits: '482193',
        context: { stage: 'pin', pinAttempt: 1, callerRegistered: false },
      });

    it('is hung up, never dialled on, even as a party, with nothing recorded; a phone is put through as ever', async () => {
      const s = session(pin(), { firstParty: OTHER_VN });
      const { d, remembered, steps, asked } = decider({ sessions: [s], servedNumbers: [VN, OTHER_VN] });
      expect(await d.decide(request('answer', OTHER_VN))).toEqual([{ type: 'hangup' }]);
      // Not even the PIN status callback's bookkeeping (RecordAuthorizedCaller).
      expect([remembered, steps, asked]).toEqual([[], [], []]);
      expect(await d.decide(request('answer', BOB))).toEqual([dialTo(OTHER_VN, s)]);
    });

    it('is put through like any phone when its provider never confirmed that the account adding it holds it (a person’s phone a tenant typed in)', async () => {
      const s = session(pin(), { firstParty: OTHER_VN });
      const squatted = decider({
        sessions: [s],
        servedNumbers: [VN, OTHER_VN],
        unconfirmedNumbers: [OTHER_VN],
      });
      expect(await squatted.d.decide(request('answer', OTHER_VN))).toEqual([dialTo(BOB, s)]);
      // Its PIN entry is checked like anyone's.
      const single = session(pin({ createSessionWithSingleParty: true }), { secondParty: null });
      const matched = decider({
        sessions: [single],
        servedNumbers: [OTHER_VN],
        unconfirmedNumbers: [OTHER_VN],
        verdict: { outcome: 'match', sessionId: single.sessionId, party: 'first' },
      });
      expect(await matched.d.decide(pinFrom(OTHER_VN))).not.toEqual([{ type: 'hangup' }]);
      expect(matched.asked.map((a) => a.subject)).toContain(VerifyPin.subject);
    });

    it('is hung up on its PIN entry before the digits are checked, and on a single-party session, never bound as the one the party last talked to', async () => {
      const s = session(pin());
      const { d, remembered, steps, asked } = pinMatch(s, 'second');
      expect(await d.decide(pinFrom(OTHER_VN))).toEqual([{ type: 'hangup' }]);
      // No attempt recorded against the PIN (nor a PIN callback sent): VerifyPin was never asked.
      expect([remembered, steps, asked]).toEqual([[], [], []]);
      // A phone entering the same digits is checked and put through.
      expect(await d.decide(pinFrom(STRANGER))).toEqual([dialTo(ALICE, s)]);
      expect(asked.map((a) => a.subject)).toEqual([VerifyPin.subject]);
      const single = session(pin({ createSessionWithSingleParty: true }), { secondParty: null });
      const matched = pinMatch(single, 'first');
      expect(await matched.d.decide(pinFrom(OTHER_VN))).toEqual([{ type: 'hangup' }]);
      expect(matched.bound).toEqual([]);
      const open = decider({
        sessions: [session({ createSessionWithSingleParty: true }, { secondParty: null })],
        servedNumbers: [OTHER_VN],
      });
      expect(await open.d.decide(request('answer', OTHER_VN))).toEqual([{ type: 'hangup' }]);
      expect(open.bound).toEqual([]);
    });

    /** A Proxy Service whose out-of-session callback records whom it is asked about, and makes nothing. */
    const recordingProxy = () => {
      const asked: string[] = [];
      const proxy = {
        serviceSid: 'KS1',
        outOfSession: {
          ask: async (contact: OutsideContact) => {
            asked.push(contact.from);
            return null;
          },
        } as unknown as ProxyOutOfSession,
        interceptor: noIntercept,
      };
      return { asked, proxy };
    };

    it('is hung up before a Proxy Service is asked to make it a participant; a phone is asked about as ever', async () => {
      const { asked, proxy } = recordingProxy();
      const { d } = decider({ sessions: [], servedNumbers: [OTHER_VN], proxy });
      expect(await d.decide(request('answer', OTHER_VN))).toEqual([{ type: 'hangup' }]);
      expect(asked).toEqual([]);
      await d.decide(request('answer', STRANGER));
      expect(asked).toEqual([STRANGER]);
    });

    it('asks no Proxy Service of a holder the number has moved to since the gateway looked', async () => {
      const { asked, proxy } = recordingProxy();
      const moved = { accountId: ACCOUNT, subaccountId: 'SA000000000000000002' };
      const { d } = decider({ sessions: [], proxy, numberHolder: moved });
      await d.decide(request('answer', STRANGER, { subaccountId: 'SA000000000000000001' }));
      expect(asked).toEqual([]);
      // Its holder's still: asked.
      await d.decide(request('answer', STRANGER, { subaccountId: moved.subaccountId }));
      expect(asked).toEqual([STRANGER]);
    });

    it('is answered as anyone where nobody would be dialled: the number’s own application, the unknown-caller message, the PIN prompt', async () => {
      const { d } = decider({
        sessions: [],
        fallbackAnswerUrl: 'https://app.customer.test/answer',
        servedNumbers: [OTHER_VN],
      });
      expect(await d.decide(request('answer', OTHER_VN))).toEqual([
        { type: 'redirect', url: 'https://app.customer.test/answer' },
      ]);
      const unknown = decider({ sessions: [session()], servedNumbers: [VN, OTHER_VN] });
      expect(await unknown.d.decide(request('answer', OTHER_VN))).toEqual([
        { type: 'say', text: SPOKEN.unknownCaller },
        { type: 'hangup' },
      ]);
      const prompted = decider({ sessions: [session(pin())], servedNumbers: [VN, OTHER_VN] });
      expect(await prompted.d.decide(request('answer', OTHER_VN))).toEqual([
        expect.objectContaining({ type: 'gather' }),
      ]);
    });
  });

  describe('a call from one of Maskline’s numbers whose sessions would not dial the number called', () => {
    const OTHER_VN = '+14155550177';

    it('is put through like any phone: a tenant signing calls from another tenant’s number does not learn whether it has sessions', async () => {
      const s = session(pin(), { firstParty: OTHER_VN });
      // Another tenant's number, with a live session between two phones: it would never dial VN.
      const { d, state } = decider({
        sessions: [s],
        servedNumbers: [VN, OTHER_VN],
        dialledFrom: { [OTHER_VN]: { parties: [ALICE, '+14155550188'] } },
      });
      expect(await d.decide(request('answer', OTHER_VN))).toEqual([dialTo(BOB, s)]);
      // A phone's call reads nothing: its number serves no session.
      (state.boundLately as jest.Mock).mockClear();
      expect(await d.decide(request('answer', BOB))).toEqual([dialTo(OTHER_VN, s)]);
      expect(state.boundLately).not.toHaveBeenCalled();
    });

    it('is hung up when a single-party session on it was bound to the number called lately (it may dial it): one read, however many sessions the number holds', async () => {
      const s = session(pin(), { firstParty: OTHER_VN });
      const boundToVn = decider({
        sessions: [s],
        servedNumbers: [VN, OTHER_VN],
        dialledFrom: { [OTHER_VN]: { parties: [], boundTo: ['+14155550199', VN] } },
      });
      expect(await boundToVn.d.decide(request('answer', OTHER_VN))).toEqual([{ type: 'hangup' }]);
      const boundElsewhere = decider({
        sessions: [s],
        servedNumbers: [VN, OTHER_VN],
        dialledFrom: { [OTHER_VN]: { parties: [], boundTo: ['+14155550199'] } },
      });
      expect(await boundElsewhere.d.decide(request('answer', OTHER_VN))).toEqual([dialTo(BOB, s)]);
      expect(boundElsewhere.state.boundLately).toHaveBeenCalledWith(OTHER_VN, VN);
    });
  });

  describe('a party of a live session on the number', () => {
    it('hears its play URL, then the other party is dialled with the session’s ring timeout, time limit and recording', async () => {
      const s = session({
        firstPartyPlayUrl: `${MEDIA}/hello.mp3`,
        ringTimeoutSeconds: 25,
        record: true,
        recordFileFormat: 'wav',
      });
      const { d, remembered, steps } = decider({ sessions: [s] });
      expect(await d.decide(request('answer', ALICE))).toEqual([
        { type: 'play', url: `${MEDIA}/hello.mp3` },
        dialTo(BOB, s),
      ]);
      expect(remembered).toEqual([
        {
          vn: VN,
          callId: 'CALL-1',
          call: expect.objectContaining({
            sessionId: s.sessionId,
            callerRole: 'first',
            calleeRole: 'second',
            callee: BOB,
            recordFormat: 'wav',
          }),
        },
      ]);
      expect(steps.map((x) => x.step)).toEqual(['first-party-answered']);
      expect(steps[0].call).toMatchObject({ virtualNumber: VN, from: ALICE, to: BOB });
    });

    it('the second party reaches the first, hearing its own message', async () => {
      const s = session({ firstPartyPlayUrl: `${MEDIA}/a.mp3`, secondPartyPlayUrl: `${MEDIA}/b.mp3` });
      const { d } = decider({ sessions: [s] });
      expect(await d.decide(request('answer', BOB))).toEqual([
        { type: 'play', url: `${MEDIA}/b.mp3` },
        dialTo(ALICE, s),
      ]);
    });

    it('with force_pin_authentication, is asked for its own PIN first (as a registered caller)', async () => {
      const s = session(pin({ forcePinAuthentication: true, generatePin: true, generatePinLength: 6 }));
      const { d } = decider({ sessions: [s] });
      expect(await d.decide(request('answer', ALICE))).toEqual([
        {
          type: 'gather',
          next: { stage: 'pin', pinAttempt: 1, callerRegistered: true },
          numDigits: 6,
          timeoutSeconds: 10,
          prompt: [{ say: SPOKEN.pinPrompt }],
        },
      ]);
    });

    it('with force_pin_authentication, its PIN is checked against its own session alone, never as a guess at another session’s', async () => {
      const s = session(pin({ forcePinAuthentication: true }));
      const other = session(pin(), { firstParty: '+16285550003', secondParty: '+16285550004' });
      const { d, asked } = decider({
        sessions: [other, s],
        verdict: { outcome: 'mismatch', remainingAttempts: 1 },
      });
      const entered = (caller: string, callerRegistered: boolean) =>
        d.decide(
          request('pin', caller, {
            digits: '482193',
            context: { stage: 'pin', pinAttempt: 1, callerRegistered },
          }),
        );
      await entered(ALICE, true);
      await entered(STRANGER, false);
      const verified = asked.filter((a) => a.subject === VerifyPin.subject).map((a) => a.payload);
      expect(verified[0]).toMatchObject({ callerRegistered: true, onlySessions: [s.sessionId] });
      // An unknown caller's digits are checked against every PIN session on the number.
      expect(verified[1]).toMatchObject({ callerRegistered: false });
      expect(verified[1]).not.toHaveProperty('onlySessions');
    });

    it('takes a caller as registered only while it is a party of a PIN session on the number: a registered prompt replayed from another phone is an unknown caller’s entry, under the number’s bar', async () => {
      const s = session(pin({ forcePinAuthentication: true }));
      const { d, asked } = decider({
        sessions: [s],
        verdict: { outcome: 'mismatch', remainingAttempts: 1 },
      });
      const actions = await d.decide(
        request('pin', STRANGER, {
          digits: '000000',
          context: { stage: 'pin', pinAttempt: 1, callerRegistered: true },
        }),
      );
      const verified = asked.filter((a) => a.subject === VerifyPin.subject).map((a) => a.payload);
      expect(verified).toEqual([
        expect.objectContaining({ callerRegistered: false, callerNumber: STRANGER }),
      ]);
      expect(verified[0]).not.toHaveProperty('onlySessions');
      // Its next prompt is an unknown caller's too.
      expect(actions).toContainEqual(
        expect.objectContaining({
          type: 'gather',
          next: expect.objectContaining({ callerRegistered: false }),
        }),
      );
    });

    it('asks the store before taking a caller prompted as registered for an unknown one: its session may not be in this replica’s index yet', async () => {
      const s = session(pin({ forcePinAuthentication: true }));
      const other = session(pin(), { firstParty: '+16285550003', secondParty: '+16285550004' });
      const { d, asked } = decider({
        sessions: [other],
        fresh: [other, s],
        verdict: { outcome: 'mismatch', remainingAttempts: 1 },
      });
      await d.decide(
        request('pin', ALICE, {
          digits: '482193',
          context: { stage: 'pin', pinAttempt: 1, callerRegistered: true },
        }),
      );
      const verified = asked.filter((a) => a.subject === VerifyPin.subject).map((a) => a.payload);
      expect(verified).toEqual([
        expect.objectContaining({ callerRegistered: true, onlySessions: [s.sessionId] }),
      ]);
    });

    it('tells pin-auth whose number it is (the subaccount holding it), whose callers’ bar the wrong PIN counts on', async () => {
      const s = session(pin());
      const { d, asked } = decider({ sessions: [s], verdict: { outcome: 'mismatch', remainingAttempts: 1 } });
      const holder = 'SA000000000000000001';
      await d.decide(request('pin', STRANGER, { digits: '000000', subaccountId: holder }));
      await d.decide(request('pin', STRANGER, { digits: '000000' }));
      const verified = asked.filter((a) => a.subject === VerifyPin.subject).map((a) => a.payload);
      expect(verified).toEqual([
        expect.objectContaining({ subaccountId: holder }),
        expect.objectContaining({ subaccountId: null }),
      ]);
    });

    it('on a PIN session without forced PIN, is connected and recorded as an authorized caller', async () => {
      const s = session(pin());
      const { d, asked } = decider({ sessions: [s] });
      expect(await d.decide(request('answer', ALICE))).toEqual([dialTo(BOB, s)]);
      expect(asked.find((a) => a.subject === RecordAuthorizedCaller.subject)?.payload).toMatchObject({
        sessionId: s.sessionId,
        callerNumber: ALICE,
      });
    });

    it('records it as an authorized caller again after a fault that may pass, and only once a refusal that will not', async () => {
      const s = session(pin());
      const unavailable = () =>
        new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'pin-auth did not answer', { retryable: true });
      const { d, asked } = decider({ sessions: [s], recordFailures: [unavailable(), unavailable()] });
      await d.decide(request('answer', ALICE));
      const recorded = () => asked.filter((a) => a.subject === RecordAuthorizedCaller.subject);
      // Asked again 0.5 s, then 1 s, later: the third is taken.
      await expectEventually(() => expect(recorded()).toHaveLength(3), { timeoutMs: 5000 });
      const refused = decider({
        sessions: [s],
        recordFailures: [new CodedError(ErrorCodes.VALIDATION, 'a bad request')],
      });
      await refused.d.decide(request('answer', ALICE));
      const once = () => refused.asked.filter((a) => a.subject === RecordAuthorizedCaller.subject);
      await expectEventually(() => expect(once()).toHaveLength(1));
      expect(refused.logger.error).toHaveBeenCalledWith(
        expect.objectContaining({ code: ErrorCodes.VALIDATION, attempts: 1 }),
        'authorized caller not recorded: its PIN status callback is lost',
      );
    });

    it('is answered from its own session alone when the index knows it, and alike when the store is read', async () => {
      const s = session({ firstPartyPlayUrl: `${MEDIA}/a.mp3` });
      const other = session({}, { firstParty: '+16285550003', secondParty: '+16285550004' });
      const known = decider({ sessions: [other, s] });
      const read = decider({ sessions: [other, s], indexLoaded: false });
      const expected = [{ type: 'play', url: `${MEDIA}/a.mp3` }, dialTo(BOB, s)];
      expect(await known.d.decide(request('answer', ALICE))).toEqual(expected);
      expect(known.finder.onNumber).not.toHaveBeenCalled();
      expect(await read.d.decide(request('answer', ALICE))).toEqual(expected);
      expect(read.finder.onNumber).toHaveBeenCalledWith(VN, ACCOUNT, expect.anything());
      expect(read.remembered).toEqual(known.remembered);
    });

    it('who is not in the index yet is found by a fresh read before being treated as a stranger', async () => {
      const s = session();
      const { d, finder } = decider({ sessions: [], fresh: [s] });
      expect(await d.decide(request('answer', ALICE))).toEqual([dialTo(BOB, s)]);
      expect(finder.onNumber).toHaveBeenCalledTimes(1);
    });
  });

  describe('an unknown caller', () => {
    it('is asked for a PIN when PIN sessions live on the number, with their common prompt and length', async () => {
      const a = session(pin({ pinPromptPlay: `${MEDIA}/pin.mp3`, generatePin: true, generatePinLength: 5 }));
      const b = session(pin({ pinPromptPlay: `${MEDIA}/pin.mp3`, generatePin: true, generatePinLength: 5 }), {
        firstParty: '+16285550003',
        secondParty: '+16285550004',
      });
      const { d } = decider({ sessions: [a, b] });
      expect(await d.decide(request('answer', STRANGER))).toEqual([
        expect.objectContaining({ type: 'gather', numDigits: 5, prompt: [{ play: `${MEDIA}/pin.mp3` }] }),
      ]);
    });

    it('hears a spoken prompt when the sessions disagree: never another customer’s recording', async () => {
      const a = session(pin({ pinPromptPlay: `${MEDIA}/a.mp3`, generatePin: true, generatePinLength: 4 }));
      const b = session(pin({ pinPromptPlay: `${MEDIA}/b.mp3`, generatePin: true, generatePinLength: 6 }));
      const { d } = decider({ sessions: [a, b] });
      expect(await d.decide(request('answer', STRANGER))).toEqual([
        expect.objectContaining({ type: 'gather', numDigits: 0, prompt: [{ say: SPOKEN.pinPrompt }] }),
      ]);
    });

    it('reaches the registered party of a single-party session, who is then bound to them', async () => {
      const s = session({ createSessionWithSingleParty: true }, { secondParty: null });
      const { d, bound, remembered } = decider({ sessions: [s] });
      expect(await d.decide(request('answer', STRANGER))).toEqual([dialTo(ALICE, s)]);
      expect(bound).toEqual([[s.sessionId, STRANGER]]);
      expect(remembered[0].call).toMatchObject({ callerRole: 'second', calleeRole: 'first' });
    });

    it('the registered party of a single-party session calls back whoever it last talked to', async () => {
      const s = session({ createSessionWithSingleParty: true }, { secondParty: null });
      const { d } = decider({ sessions: [s], boundTo: STRANGER });
      expect(await d.decide(request('answer', ALICE))).toEqual([dialTo(STRANGER, s)]);
      const { d: nobody } = decider({ sessions: [s], boundTo: null });
      expect(await nobody.decide(request('answer', ALICE))).toEqual([
        { type: 'say', text: SPOKEN.nobodyToConnect },
        { type: 'hangup' },
      ]);
    });

    it('hears the unknown-caller message when no PIN session lives on the number', async () => {
      const { d } = decider({ sessions: [session({ unknownCallerPlay: `${MEDIA}/no.mp3` })] });
      expect(await d.decide(request('answer', STRANGER))).toEqual([
        { type: 'play', url: `${MEDIA}/no.mp3` },
        { type: 'hangup' },
      ]);
      const { d: spoken } = decider({ sessions: [session()] });
      expect(await spoken.decide(request('answer', STRANGER))).toEqual([
        { type: 'say', text: SPOKEN.unknownCaller },
        { type: 'hangup' },
      ]);
    });
  });

  describe('no live session on the number', () => {
    it('hands the call to no fallback_answer_url of a holder the number has moved to since the gateway looked: another account, or another of its account’s holders', async () => {
      const fallbackAnswerUrl = 'https://app.newholder.test/answer';
      for (const [numberHolder, asked] of [
        [{ accountId: 'MA000000000000000002', subaccountId: null }, {}],
        [
          { accountId: ACCOUNT, subaccountId: 'SA000000000000000002' },
          { subaccountId: 'SA000000000000000001' },
        ],
        [{ accountId: ACCOUNT, subaccountId: 'SA000000000000000002' }, { subaccountId: null }],
      ] as const) {
        const { d } = decider({ sessions: [], fallbackAnswerUrl, numberHolder });
        expect(await d.decide(request('answer', ALICE, asked))).toEqual([
          { type: 'say', text: SPOKEN.notInService },
          { type: 'hangup' },
        ]);
      }
      // Still the webhook's holder's: its application takes the call.
      const holder = { accountId: ACCOUNT, subaccountId: 'SA000000000000000001' };
      const { d } = decider({ sessions: [], fallbackAnswerUrl, numberHolder: holder });
      expect(await d.decide(request('answer', ALICE, { subaccountId: holder.subaccountId }))).toEqual([
        { type: 'redirect', url: fallbackAnswerUrl },
      ]);
    });

    it('hands the call to the number’s fallback_answer_url, else says it is not in service', async () => {
      const { d } = decider({ sessions: [], fallbackAnswerUrl: 'https://app.customer.test/answer' });
      expect(await d.decide(request('answer', ALICE))).toEqual([
        { type: 'redirect', url: 'https://app.customer.test/answer' },
      ]);
      const { d: none } = decider({ sessions: [] });
      expect(await none.decide(request('answer', ALICE))).toEqual([
        { type: 'say', text: SPOKEN.notInService },
        { type: 'hangup' },
      ]);
    });
  });

  describe('PIN entry', () => {
    const pinRequest = (attempt: number, digits = '482193') =>
      request('pin', STRANGER, {
        digits,
        context: { stage: 'pin', pinAttempt: attempt, callerRegistered: false },
      });

    it('a matching PIN connects the caller to the counterpart of the PIN’s party', async () => {
      const s = session(pin());
      const { d, asked } = decider({
        sessions: [s],
        verdict: { outcome: 'match', sessionId: s.sessionId, party: 'second' },
      });
      expect(await d.decide(pinRequest(1))).toEqual([dialTo(ALICE, s)]);
      expect(asked[0].payload).toMatchObject({
        virtualNumber: VN,
        accountId: ACCOUNT,
        attempt: 1,
        maxAttempts: 2,
      });
    });

    it('the registered party’s own PIN on a single-party session reaches that party, who is bound to the caller', async () => {
      const s = session(pin({ createSessionWithSingleParty: true }), { secondParty: null });
      const { d, bound } = decider({
        sessions: [s],
        verdict: { outcome: 'match', sessionId: s.sessionId, party: 'first' },
      });
      expect(await d.decide(pinRequest(1))).toEqual([dialTo(ALICE, s)]);
      expect(bound).toEqual([[s.sessionId, STRANGER]]);
    });

    it('a wrong PIN plays the wrong-PIN message, waits the longest wait, and asks again', async () => {
      const a = session(pin({ incorrectPinPlay: `${MEDIA}/wrong.mp3`, pinRetryWaitSeconds: 5, pinRetry: 3 }));
      const b = session(pin({ incorrectPinPlay: `${MEDIA}/wrong.mp3`, pinRetryWaitSeconds: 8, pinRetry: 1 }));
      const { d, asked } = decider({
        sessions: [a, b],
        verdict: { outcome: 'mismatch', remainingAttempts: 1 },
      });
      expect(await d.decide(pinRequest(1))).toEqual([
        { type: 'play', url: `${MEDIA}/wrong.mp3` },
        { type: 'pause', seconds: 8 },
        expect.objectContaining({
          type: 'gather',
          next: { stage: 'pin', pinAttempt: 2, callerRegistered: false },
        }),
      ]);
      // The strictest pin_retry of the sessions on the number.
      expect(asked[0].payload).toMatchObject({ maxAttempts: 2 });
    });

    it('the last wrong PIN says goodbye and hangs up', async () => {
      const { d } = decider({
        sessions: [session(pin())],
        verdict: { outcome: 'mismatch', remainingAttempts: 0 },
      });
      expect(await d.decide(pinRequest(2))).toEqual([
        { type: 'say', text: SPOKEN.incorrectPin },
        { type: 'say', text: SPOKEN.goodbye },
        { type: 'hangup' },
      ]);
    });

    it('a locked-out caller is told so', async () => {
      const { d } = decider({ sessions: [session(pin())], verdict: { outcome: 'locked', reason: 'caller' } });
      expect(await d.decide(pinRequest(1))).toEqual([
        { type: 'say', text: SPOKEN.locked },
        { type: 'hangup' },
      ]);
    });

    it('with no PIN session left on the number, or a match on a session no longer here, the number is not in service', async () => {
      const { d } = decider({ sessions: [session()] });
      expect(await d.decide(pinRequest(1))).toEqual([
        { type: 'say', text: SPOKEN.notInService },
        { type: 'hangup' },
      ]);
      const { d: gone } = decider({
        sessions: [session(pin())],
        verdict: { outcome: 'match', sessionId: '00000000-0000-4000-8000-999999999999', party: 'first' },
      });
      expect(await gone.decide(pinRequest(1))).toEqual([
        { type: 'say', text: SPOKEN.notInService },
        { type: 'hangup' },
      ]);
    });
  });

  describe('a call Maskline placed (initiate_call_to_first_party)', () => {
    it('bridges the first party to the second when they answer', async () => {
      const s = session({ initiateCallToFirstParty: true });
      const { d } = decider({ sessions: [s] });
      const r = request('outbound-answer', ALICE, {
        context: { stage: 'outbound-answer', sessionId: s.sessionId },
      });
      expect(await d.decide(r)).toEqual([dialTo(BOB, s)]);
    });

    it('says not in service when its session is not on this number (or gone)', async () => {
      const { d } = decider({ sessions: [] });
      const r = request('outbound-answer', ALICE, {
        context: { stage: 'outbound-answer', sessionId: '00000000-0000-4000-8000-999999999999' },
      });
      expect(await d.decide(r)).toEqual([{ type: 'say', text: SPOKEN.notInService }, { type: 'hangup' }]);
    });
  });

  describe('a stranger on a Proxy Service’s number', () => {
    it('is made a party by the out-of-session callback, and the intercept gets what is left of the same budget', async () => {
      const made = session({}, { firstParty: STRANGER, secondParty: BOB, proxyServiceSid: 'KS1' });
      const budgets: Array<[string, CallbackBudget | undefined]> = [];
      // The store has the Session once the callback has made it.
      const fresh: RoutingSession[] = [];
      const { d } = decider({
        sessions: [],
        fresh,
        proxy: {
          serviceSid: 'KS1',
          outOfSession: {
            ask: async (contact: OutsideContact) => {
              budgets.push(['out-of-session', contact.budget]);
              // The callback spends from it (ProxyCallbacks.post sets its deadline).
              if (contact.budget) contact.budget.by = 1234;
              fresh.push(made);
              return { kind: 'session', sessionId: made.sessionId, to: BOB };
            },
          } as unknown as ProxyOutOfSession,
          interceptor: {
            allows: async (_s: RoutingSession, interaction: InterceptedInteraction) => {
              budgets.push(['intercept', interaction.budget]);
              return true;
            },
          } as unknown as ProxyInterceptor,
        },
      });
      expect(await d.decide(request('answer', STRANGER))).toEqual([dialTo(BOB, made)]);
      // One budget for both: the intercept gets what the out-of-session callback left of it.
      expect(budgets.map(([what]) => what)).toEqual(['out-of-session', 'intercept']);
      const [[, first], [, second]] = budgets;
      expect(second).toBe(first);
      expect(second).toEqual({ by: 1234 });
    });
  });
});

/** Sessions of the Plivo API: no intercept. */
const noIntercept = { allows: async () => true } as unknown as ProxyInterceptor;
const noOutOfSession = { ask: async () => null } as unknown as ProxyOutOfSession;
