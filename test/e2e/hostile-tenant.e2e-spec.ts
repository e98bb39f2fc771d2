import { randomBytes, randomUUID } from 'node:crypto';
import {
  TelephonySimulator,
  simulatedProvider,
  type CallReport,
  type Provider,
} from '@maskline/telephony-simulator';
import { connect } from 'nats';
import { DEFAULT_NATS_MEMORY_BYTES, MessageReceived, natsEntryBound } from '@maskline/contracts';
import { TEST_NATS_STORAGE_BYTES, expectEventually } from '@maskline/testing';
import { createAccount, createSubaccount, type TestAccount } from './support/accounts';
import { CallbackReceiver } from './support/callback-receiver';
import { E2eSystem } from './support/e2e-system';
import { callParams, sendWebhook, signWebhook, urlsIn } from './support/signed-webhook';
import { eventsOn } from './support/stream-events';

type Json = Record<string, unknown>;
type Tenant = 'victim' | 'attacker';

/**
 * Two tenants on one Maskline, each with a Plivo and a Twilio number and provider credentials of
 * its own. The attacker knows everything about its own account and, where it says so, what it
 * could have overheard of the victim's calls (call ids, the URLs in Maskline's answers, whole
 * signed requests). Every forgery gets 403, and the victim's session shows only its own calls.
 */
const providerAccount = (provider: Provider) =>
  provider === 'plivo'
    ? {
        accountId: `MA${randomBytes(9).toString('hex').toUpperCase()}`,
        authToken: randomBytes(20).toString('hex'),
      }
    : { accountId: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex') };
const CREDENTIALS: Record<Tenant, Record<Provider, { accountId: string; authToken: string }>> = {
  victim: { plivo: providerAccount('plivo'), twilio: providerAccount('twilio') },
  attacker: { plivo: providerAccount('plivo'), twilio: providerAccount('twilio') },
};
const NUMBERS: Record<Tenant, Record<Provider, string>> = {
  victim: { plivo: '+14155550501', twilio: '+14155550502' },
  attacker: { plivo: '+14155550601', twilio: '+14155550602' },
};
let phone = 0;
/** Adds the number to the account (to its subaccount, when named) with its provider credentials: 202. */
async function addNumber(
  account: TestAccount,
  number: string,
  provider: Provider,
  credentials: { accountId: string; authToken: string },
  subaccount?: string,
): Promise<void> {
  const res = await account.api('/Number/', {
    body: {
      numbers: number,
      provider,
      provider_auth_id: credentials.accountId,
      provider_auth_token: credentials.authToken,
      ...(subaccount ? { subaccount } : {}),
    },
  });
  expect(res.status).toBe(202);
}
const nextPhone = () => `+1628777${String(1000 + phone++)}`;
/** Each account's inbound allowance here: above what the forgery tests send, far below the flood. */
const INBOUND = { perSecond: 10, burst: 40 };
/** Each account's share of the room for creation verdicts here: a few dozen sessions at once. */
const CREATIONS_PERCENT = 1;
/** That room, on the NATS node the tests run. */
const CREATION_ROOM = natsEntryBound(
  'creationReservations',
  TEST_NATS_STORAGE_BYTES,
  DEFAULT_NATS_MEMORY_BYTES,
);

describe('a tenant cannot forge another tenant’s calls', () => {
  let system: E2eSystem;
  let outside: CallbackReceiver;
  /** One account per tenant and dialect, each with one number: its sessions get that number. */
  const accounts = { victim: {}, attacker: {} } as Record<Tenant, Record<Provider, TestAccount>>;

  beforeAll(async () => {
    outside = await CallbackReceiver.start();
    system = await E2eSystem.start(
      { NATS_STORAGE_BYTES: String(TEST_NATS_STORAGE_BYTES) },
      (service): Record<string, string> =>
        service === 'pin-auth'
          ? { NUMBER_MAX_FAILURES: '1000' }
          : service === 'session-service'
            ? { CREATIONS_ACCOUNT_PERCENT: String(CREATIONS_PERCENT) }
            : service === 'gateway'
              ? {
                  INBOUND_RATE_LIMIT_PER_SECOND: String(INBOUND.perSecond),
                  INBOUND_RATE_LIMIT_BURST: String(INBOUND.burst),
                }
              : {},
    );
    for (const tenant of ['victim', 'attacker'] as const) {
      for (const provider of ['plivo', 'twilio'] as const) {
        const account = await createAccount(system, `${tenant}-${provider}`);
        await addNumber(account, NUMBERS[tenant][provider], provider, CREDENTIALS[tenant][provider]);
        accounts[tenant][provider] = account;
      }
    }
  });

  afterAll(async () => {
    await system?.stop();
    await outside?.stop();
  });

  describe.each(['plivo', 'twilio'] as const)('%s dialect', (provider) => {
    const sim = (tenant: Tenant) =>
      new TelephonySimulator(system.baseUrl, provider, CREDENTIALS[tenant][provider]);
    const voice = (stage: string, query = '') => `${system.baseUrl}/voice/${provider}/${stage}${query}`;
    const token = (tenant: Tenant) => CREDENTIALS[tenant][provider].authToken;
    const params = (
      callId: string,
      from: string,
      to: string,
      tenant: Tenant,
      extra: Record<string, string> = {},
    ) => ({
      ...callParams(provider, callId, from, to, CREDENTIALS[tenant][provider].accountId),
      ...extra,
    });
    const newCallId = () => (provider === 'plivo' ? randomUUID() : `CA${randomBytes(16).toString('hex')}`);
    const dialEnded: Record<string, string> =
      provider === 'plivo'
        ? { DialStatus: 'completed', DialBLegDuration: '99' }
        : { DialCallStatus: 'completed', DialCallDuration: '99' };
    const cbPath = `/cb/victim/${provider}`;
    const victimVn = NUMBERS.victim[provider];
    const attackerVn = NUMBERS.attacker[provider];
    const [victimFirst, victimSecond, attackerFirst, attackerSecond] = [
      nextPhone(),
      nextPhone(),
      nextPhone(),
      nextPhone(),
    ];
    let victimSession: Json;
    let victimCall: CallReport;
    let attackerCall: CallReport;
    /** Legitimate calls the victim's session must show, and nothing else. */
    const legitimate = { calls: 0, events: [] as string[] };
    const fullCall = [
      'SessionFirstPartyAnswer',
      'SessionSecondPartyRing',
      'SessionSecondPartyAnswer',
      'SessionSecondPartyHangup',
      'SessionFirstPartyHangup',
      'SessionPartiesHangup',
    ];
    /** Refused, and the answer names none of the victim's parties. */
    const expectRefused = (res: { status: number; body: string }) => {
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body)).toEqual({
        api_id: expect.any(String),
        error: expect.stringMatching(/refused/),
      });
      for (const party of [victimFirst, victimSecond]) expect(res.body).not.toContain(party.slice(2));
    };

    beforeAll(async () => {
      const created = await accounts.victim[provider].api('/Masking/Session/', {
        body: {
          first_party: victimFirst,
          second_party: victimSecond,
          is_pin_authentication_required: true,
          generate_pin: true,
          generate_pin_length: 6,
          callback_url: `${outside.baseUrl}${cbPath}`,
        },
      });
      victimSession = (await created.json()) as Json;
      expect(created.status).toBe(201);
      expect(`+${String(victimSession.virtual_number).replace(/^\+/, '')}`).toBe(victimVn);
      const attackerSession = await accounts.attacker[provider].api('/Masking/Session/', {
        body: {
          first_party: attackerFirst,
          second_party: attackerSecond,
          is_pin_authentication_required: true,
          generate_pin: true,
        },
      });
      expect(attackerSession.status).toBe(201);
      victimCall = await sim('victim').call({ from: victimFirst, to: victimVn });
      expect(victimCall.dials.map((d) => d.number)).toEqual([victimSecond]);
      legitimate.calls++;
      legitimate.events.push(...fullCall);
      attackerCall = await sim('attacker').call({ from: attackerFirst, to: attackerVn });
      expect(attackerCall.dials.map((d) => d.number)).toEqual([attackerSecond]);
    });

    it('an answer for the victim’s number signed with the attacker’s token is refused, whatever vn says', async () => {
      const forged = params(newCallId(), victimFirst, victimVn, 'attacker');
      expectRefused(
        await sendWebhook(
          signWebhook(
            provider,
            voice('answer', `?vn=${encodeURIComponent(attackerVn)}`),
            forged,
            token('attacker'),
          ),
        ),
      );
      expectRefused(await sendWebhook(signWebhook(provider, voice('answer'), forged, token('attacker'))));
      // vn naming the victim, To the attacker's own number: the numbers disagree.
      const crossed = params(newCallId(), victimFirst, attackerVn, 'attacker');
      expectRefused(
        await sendWebhook(
          signWebhook(
            provider,
            voice('answer', `?vn=${encodeURIComponent(victimVn)}`),
            crossed,
            token('attacker'),
          ),
        ),
      );
    });

    it('the attacker’s own call context spliced onto the victim’s call is refused', async () => {
      const own = urlsIn(attackerCall.requests[0].xml);
      const ended = own.find((u) => u.includes('/dial-ended?'));
      const events = own.find((u) => u.includes('/dial-event?') || u.includes('/dial-event?'));
      expect(ended).toBeDefined();
      for (const url of [ended, events]) {
        const spliced = params(victimCall.callId, victimFirst, attackerVn, 'attacker', {
          ...dialEnded,
          ...(provider === 'plivo'
            ? ({ DialALegUUID: victimCall.callId } as Record<string, string>)
            : { ParentCallSid: victimCall.callId }),
        });
        expectRefused(await sendWebhook(signWebhook(provider, String(url), spliced, token('attacker'))));
      }
    });

    it('the victim’s call context, overheard, is refused when the attacker signs it', async () => {
      const theirs = urlsIn(victimCall.requests[0].xml).find((u) => u.includes('/dial-ended?'));
      expect(theirs).toBeDefined();
      for (const to of [victimVn, attackerVn]) {
        const forged = params(victimCall.callId, victimFirst, to, 'attacker', dialEnded);
        expectRefused(await sendWebhook(signWebhook(provider, String(theirs), forged, token('attacker'))));
      }
    });

    it('a context moved to another stage, altered, or missing is refused', async () => {
      const ended = String(urlsIn(attackerCall.requests[0].xml).find((u) => u.includes('/dial-ended?')));
      const ctx = new URL(ended).searchParams.get('ctx') ?? '';
      const own = params(attackerCall.callId, attackerFirst, attackerVn, 'attacker', dialEnded);
      for (const stage of ['pin', 'hangup', 'recording', 'outbound-answer']) {
        expectRefused(
          await sendWebhook(signWebhook(provider, voice(stage, `?ctx=${ctx}`), own, token('attacker'))),
        );
      }
      const [kid, payload, signature] = ctx.split('.');
      const altered = `${kid}.${payload.slice(0, -2)}${payload.slice(-2) === 'AA' ? 'AB' : 'AA'}.${signature}`;
      expectRefused(
        await sendWebhook(
          signWebhook(provider, voice('dial-ended', `?ctx=${altered}`), own, token('attacker')),
        ),
      );
      // The pre-context follow-up URLs, naming the victim's session and call in plain query parameters.
      const legacy = `?s=${String(victimSession.session_uuid)}&vn=${encodeURIComponent(attackerVn)}&c=${victimCall.callId}`;
      for (const stage of ['outbound-answer', 'pin', 'dial-ended', 'dial-event', 'recording']) {
        expectRefused(await sendWebhook(signWebhook(provider, voice(stage, legacy), own, token('attacker'))));
      }
    });

    it('a signed request replayed byte for byte is refused', async () => {
      // A genuine answer for the victim, as the provider signs it: the first one connects the call.
      const genuine = signWebhook(
        provider,
        voice('answer'),
        params(newCallId(), victimFirst, victimVn, 'victim'),
        token('victim'),
      );
      const first = await sendWebhook(genuine);
      expect(first.status).toBe(200);
      expect(first.body).toContain(victimSecond.slice(2));
      legitimate.calls++;
      legitimate.events.push('SessionFirstPartyAnswer', 'SessionSecondPartyHangup');
      // Overheard and sent again.
      expectRefused(await sendWebhook(genuine));
      // A follow-up of the victim's call, replayed.
      const ended = String(urlsIn(first.body).find((u) => u.includes('/dial-ended?')));
      const followUp = signWebhook(
        provider,
        ended,
        params(genuine.params.CallUUID ?? genuine.params.CallSid, victimFirst, victimVn, 'victim', {
          ...dialEnded,
          DialCallStatus: 'no-answer',
          DialStatus: 'no-answer',
        }),
        token('victim'),
      );
      expect((await sendWebhook(followUp)).status).toBe(200);
      expectRefused(await sendWebhook(followUp));
    });

    it('the victim’s PIN typed on the attacker’s number reaches nobody', async () => {
      const pin = String((victimSession.session as Json).first_party_pin);
      expect(pin).toMatch(/^\d{6}$/);
      const stranger = nextPhone();
      const report = await sim('attacker').call({ from: stranger, to: attackerVn, digits: [pin, pin] });
      expect(report.dials).toEqual([]);
      expect(report.heard).toContain('say:That PIN is not correct.');
    });

    it('a hangup naming the victim’s call, on the attacker’s own number, changes nothing', async () => {
      const hangup = params(
        victimCall.callId,
        victimFirst,
        attackerVn,
        'attacker',
        provider === 'plivo'
          ? { CallStatus: 'completed', Duration: '999' }
          : { CallStatus: 'completed', CallDuration: '999' },
      );
      const res = await sendWebhook(signWebhook(provider, voice('hangup'), hangup, token('attacker')));
      expect(res.status).toBe(200);
    });

    it('calls on the attacker’s own number under the victim’s call id, placed first, take nothing from the victim’s call', async () => {
      // An id overheard while the victim's call is under way, raced ahead of its remaining steps:
      // here the whole forged call comes first, so every step the victim's call takes is one the
      // forgery already announced under that id.
      const callId = newCallId();
      const forged = await sim('attacker').call({ callId, from: attackerFirst, to: attackerVn });
      expect(forged.dials.map((d) => d.number)).toEqual([attackerSecond]);
      const before = outside.for(cbPath).length;
      const genuine = await sim('victim').call({ callId, from: victimFirst, to: victimVn });
      expect(genuine.dials.map((d) => d.number)).toEqual([victimSecond]);
      legitimate.calls++;
      legitimate.events.push(...fullCall);
      // Every callback of the victim's call reaches the victim (the attacker's session has none).
      const names = () =>
        outside
          .for(cbPath)
          .slice(before)
          .map((r) => r.params.EventName)
          .filter((name) => name !== 'SessionPinAuthenticationStatus')
          .sort();
      await expectEventually(() => expect(names()).toEqual([...fullCall].sort()), { timeoutMs: 15_000 });
      // …and the call is in the victim's session, whole.
      await expectEventually(async () => {
        const res = await accounts.victim[provider].api(
          `/Masking/Session/${String(victimSession.session_uuid)}/`,
        );
        const calls = ((await res.json()) as { response: { interaction: Json[] } }).response.interaction;
        expect(calls.filter((c) => JSON.stringify(c).includes(callId))).toHaveLength(1);
      });
    });

    it('wrong PINs the attacker signs from a phone number lock that phone out of the attacker’s numbers only', async () => {
      const stranger = nextPhone();
      const wrong =
        '000000' === String((victimSession.session as Json).first_party_pin) ? '111111' : '000000';
      // Three calls of two wrong PINs each: past the per-caller bar (5 in 15 min).
      for (let i = 0; i < 3; i++)
        await sim('attacker').call({ from: stranger, to: attackerVn, digits: [wrong, wrong] });
      const locked = await sim('attacker').call({ from: stranger, to: attackerVn, digits: [wrong] });
      expect(locked.heard).toContain('say:Too many wrong attempts. Please try again later. Goodbye.');
      // The same phone, calling the victim's number, enters the victim's PIN and is put through.
      const pin = String((victimSession.session as Json).first_party_pin);
      const call = await sim('victim').call({ from: stranger, to: victimVn, digits: [pin] });
      expect(call.heard).not.toContain('say:Too many wrong attempts. Please try again later. Goodbye.');
      expect(call.dials.map((d) => d.number)).toEqual([victimSecond]);
      legitimate.calls++;
      legitimate.events.push(...fullCall);
    });

    it('…and the victim’s session shows its own calls and nothing else', async () => {
      // A last genuine call: once its callbacks are in, anything the forgeries set moving would be too.
      const marker = await sim('victim').call({ from: victimFirst, to: victimVn });
      expect(marker.dials.map((d) => d.number)).toEqual([victimSecond]);
      legitimate.calls++;
      legitimate.events.push(...fullCall);
      await expectEventually(
        () =>
          expect(
            outside.for(cbPath).filter((r) => r.params.EventName === 'SessionPartiesHangup'),
          ).toHaveLength(legitimate.events.filter((e) => e === 'SessionPartiesHangup').length),
        { timeoutMs: 15_000 },
      );
      await expectEventually(async () => {
        const res = await accounts.victim[provider].api(
          `/Masking/Session/${String(victimSession.session_uuid)}/`,
        );
        const view = ((await res.json()) as { response: Json }).response;
        expect((view.interaction as Json[]).length).toBe(legitimate.calls);
      });
      const received = outside
        .for(cbPath)
        .filter((r) => r.params.EventName !== 'SessionPinAuthenticationStatus');
      expect(received.map((r) => r.params.EventName).sort()).toEqual([...legitimate.events].sort());
      expect(received.every((r) => r.params.Duration === undefined || r.params.Duration !== '999')).toBe(
        true,
      );
    });
  });

  /** A new text from a stranger to a Plivo number, as its provider (these credentials) signs it. */
  const signedTextTo = (
    number: string,
    credentials: { accountId: string; authToken: string },
    text: string,
  ) =>
    signWebhook(
      'plivo',
      `${system.baseUrl}/messaging/plivo/inbound`,
      simulatedProvider('plivo').messageParams(randomUUID(), nextPhone(), number, text, [], credentials),
      credentials.authToken,
    );
  /** A new text from a stranger to the tenant's Plivo number. */
  const signedText = (tenant: Tenant, text: string) =>
    signedTextTo(NUMBERS[tenant].plivo, CREDENTIALS[tenant].plivo, text);
  const post = (w: ReturnType<typeof signWebhook>) =>
    fetch(w.url, { method: 'POST', headers: w.headers, body: new URLSearchParams(w.params).toString() });

  it('a tenant flooding its own numbers with signed texts is held to its inbound limit, and so are its calls ("try later"); the other tenant’s go through', async () => {
    /** A new call from a stranger to the tenant's Plivo number, as its provider signs it. */
    const newCall = (tenant: Tenant) =>
      signWebhook(
        'plivo',
        `${system.baseUrl}/voice/plivo/answer`,
        callParams(
          'plivo',
          randomUUID(),
          nextPhone(),
          NUMBERS[tenant].plivo,
          CREDENTIALS[tenant].plivo.accountId,
        ),
        CREDENTIALS[tenant].plivo.authToken,
      );
    const flood = Array.from({ length: 3 * INBOUND.burst }, (_, i) => `flood text ${i} ${randomUUID()}`);
    /** Signed requests the gateways remember (the bounded replay bucket every tenant's webhooks share). */
    const remembered = async () => {
      const nc = await connect({ servers: system.natsUrl });
      try {
        // WEBHOOK_REPLAY_BUCKET (services/gateway/src/voice/replay-guard.ts).
        return (await (await nc.jetstream().views.kv('maskline-webhook-replay')).status()).values;
      } finally {
        await nc.close();
      }
    };
    const rememberedBefore = await remembered();

    const started = Date.now();
    const answers = await Promise.all(flood.map((text) => post(signedText('attacker', text))));
    const seconds = (Date.now() - started) / 1000;

    const taken = answers.filter((r) => r.status === 200).length;
    const refused = answers.filter((r) => r.status === 429);
    expect(taken + refused.length).toBe(flood.length);
    // Only the texts taken are remembered: a flood past its limit does not push other tenants' out.
    expect((await remembered()) - rememberedBefore).toBe(taken);
    // Never more than the burst and what the rate refilled meanwhile (the shared limit errs low).
    expect(taken).toBeLessThanOrEqual(INBOUND.burst + Math.ceil(INBOUND.perSecond * seconds) + 1);
    expect(refused.length).toBeGreaterThan(0);
    expect(Number(refused[0].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const error = (await refused[0].json()) as Json;
    expect(JSON.stringify(error)).toMatch(/inbound/);

    // Its calls spend the same allowance: a flood of them is held to it too, each refused call
    // answered with valid XML, "try again later" (the bucket refills meanwhile: counted, not timed).
    const callsStarted = Date.now();
    const calls = await Promise.all(
      Array.from({ length: 3 * INBOUND.burst }, () => sendWebhook(newCall('attacker'))),
    );
    const callSeconds = (Date.now() - callsStarted) / 1000;
    expect(calls.every((c) => c.status === 200 && /^<\?xml/.test(c.body))).toBe(true);
    const heldBack = calls.filter((c) => /<Speak[^>]*>We cannot connect your call right now/.test(c.body));
    expect(heldBack.length).toBeGreaterThan(0);
    expect(heldBack.every((c) => !/<Dial/.test(c.body))).toBe(true);
    expect(calls.length - heldBack.length).toBeLessThanOrEqual(
      INBOUND.burst + Math.ceil(INBOUND.perSecond * callSeconds) + 1,
    );

    // The victim's text and call, meanwhile, are taken and routed as ever.
    expect((await post(signedText('victim', 'the victim texts during the flood'))).status).toBe(200);
    const victimCall = await sendWebhook(newCall('victim'));
    expect(victimCall.status).toBe(200);
    expect(victimCall.body).not.toMatch(/We cannot connect your call right now/);

    // Every refusal logged: read once the gateway's lines have come through its pipe.
    await expectEventually(() => {
      const overLimit = system
        .logs('gateway')
        .filter((l) => /over its account’s inbound limit/.test(String(l.msg)));
      expect(overLimit.length).toBeGreaterThanOrEqual(refused.length + heldBack.length);
    });
    // A refused text's body is never logged.
    const logged = JSON.stringify(system.logs('gateway'));
    expect(flood.filter((text) => logged.includes(text))).toEqual([]);
  });

  it("a subaccount flooding its numbers with signed texts is held to its share of its main account's inbound limit; the main account keeps the rest", async () => {
    // A reseller, and a customer of it on a subaccount whose number has provider credentials of its own.
    const reseller = await createAccount(system, 'reseller');
    const customer = await createSubaccount(system, reseller, 'customer');
    const own = { number: '+14155550801', credentials: providerAccount('plivo') };
    const customers = { number: '+14155550802', credentials: providerAccount('plivo') };
    for (const [number, credentials, subaccount] of [
      [own.number, own.credentials, undefined],
      [customers.number, customers.credentials, customer.authId],
    ] as const) {
      await addNumber(reseller, number, 'plivo', credentials, subaccount);
    }
    const text = (
      to: { number: string; credentials: { accountId: string; authToken: string } },
      body: string,
    ) => signedTextTo(to.number, to.credentials, body);

    const started = Date.now();
    const flood = await Promise.all(
      Array.from({ length: 3 * INBOUND.burst }, (_, i) => post(text(customers, `customer flood ${i}`))),
    );
    const seconds = (Date.now() - started) / 1000;
    const taken = flood.filter((r) => r.status === 200).length;
    const refused = flood.filter((r) => r.status === 429);
    expect(taken + refused.length).toBe(flood.length);
    // SUBACCOUNT_RATE_LIMIT_PERCENT (50 %) of the burst and of what the rate refilled meanwhile.
    expect(taken).toBeLessThanOrEqual(INBOUND.burst / 2 + Math.ceil((INBOUND.perSecond / 2) * seconds) + 1);
    expect(refused.length).toBeGreaterThan(0);
    const refusals = await Promise.all(refused.map(async (r) => JSON.stringify(await r.json())));
    expect(refusals.filter((r) => /this subaccount's numbers/.test(r)).length).toBeGreaterThan(0);

    // The reseller's own number still takes a quarter of the burst at once: without the share, the
    // customer's flood would have spent it all.
    const mine = await Promise.all(
      Array.from({ length: INBOUND.burst / 4 }, (_, i) => post(text(own, `the reseller's own text ${i}`))),
    );
    expect(mine.map((r) => r.status)).toEqual(mine.map(() => 200));
  });

  it('a subaccount keeps nothing on a number its main account moves to a sibling: its sessions there end, and the sibling gets the number with the same parties', async () => {
    const reseller = await createAccount(system, 'mover');
    const [first, second] = [
      await createSubaccount(system, reseller, 'a'),
      await createSubaccount(system, reseller, 'b'),
    ];
    const number = '+14155550803';
    const credentials = providerAccount('plivo');
    await addNumber(reseller, number, 'plivo', credentials, first.authId);
    const parties = { first_party: '+16285559301', second_party: '+16285559302', message_masking: true };
    const made = await first.api('/Masking/Session/', { body: parties });
    expect(made.status).toBe(201);
    const session = (await made.json()) as Json;
    expect(session.virtual_number).toBe(number);
    /** The holder a text to the number was taken for, as its event in the stream says. */
    const takenFor = async (text: string) => {
      const sent = signedTextTo(number, credentials, text);
      expect((await post(sent)).status).toBe(200);
      const nc = await connect({ servers: system.natsUrl });
      try {
        const events = await eventsOn(nc, MessageReceived);
        return events.find((e) => e.providerMessageId === sent.params.MessageUUID)?.subaccountId;
      } finally {
        await nc.close();
      }
    };
    expect(await takenFor('to the first subaccount')).toBe(first.authId);

    // Moved to the sibling (whose provider credentials it may then set): the first's session ends.
    const moved = await reseller.api(`/Number/${number.slice(1)}/`, { body: { subaccount: second.authId } });
    expect(moved.status).toBe(202);
    await expectEventually(async () => {
      const view = (await (
        await first.api(`/Masking/Session/${session.session_uuid as string}`)
      ).json()) as Json;
      expect((view.response as Json).status).toBe('expired');
    });
    // The first has no number left for a new one; the sibling's session with the same parties gets it.
    expect(
      (await first.api('/Masking/Session/', { body: { ...parties, first_party: '+16285559303' } })).status,
    ).not.toBe(201);
    const theirs = await second.api('/Masking/Session/', { body: parties });
    expect(theirs.status).toBe(201);
    expect(((await theirs.json()) as Json).virtual_number).toBe(number);
    // Texts to it are taken for the sibling now: one the first left waiting would be told released.
    expect(await takenFor('to the sibling')).toBe(second.authId);
  });

  it('wrong PINs one subaccount signs from a phone lock that phone out of its own numbers only, not its sibling’s', async () => {
    const reseller = await createAccount(system, 'pin-siblings');
    const [first, second] = [
      await createSubaccount(system, reseller, 'a'),
      await createSubaccount(system, reseller, 'b'),
    ];
    const numbers = [
      { number: '+14155550804', credentials: providerAccount('plivo'), holder: first },
      { number: '+14155550805', credentials: providerAccount('plivo'), holder: second },
    ];
    const pins: string[] = [];
    for (const { number, credentials, holder } of numbers) {
      await addNumber(reseller, number, 'plivo', credentials, holder.authId);
      const made = await holder.api('/Masking/Session/', {
        body: {
          first_party: nextPhone(),
          second_party: nextPhone(),
          is_pin_authentication_required: true,
          generate_pin: true,
          generate_pin_length: 6,
        },
      });
      expect(made.status).toBe(201);
      const created = (await made.json()) as Json;
      expect(created.virtual_number).toBe(number);
      pins.push(String((created.session as Json).first_party_pin));
    }
    const [firsts, seconds] = numbers;
    const sim = (n: (typeof numbers)[number]) =>
      new TelephonySimulator(system.baseUrl, 'plivo', n.credentials);
    const phone = nextPhone();
    const wrong = pins[0] === '000000' ? '111111' : '000000';
    // Three calls of two wrong PINs each on the first subaccount's number: past the per-caller bar.
    for (let i = 0; i < 3; i++)
      await sim(firsts).call({ from: phone, to: firsts.number, digits: [wrong, wrong] });
    const locked = await sim(firsts).call({ from: phone, to: firsts.number, digits: [pins[0]] });
    expect(locked.heard).toContain('say:Too many wrong attempts. Please try again later. Goodbye.');
    // The same phone enters the sibling's PIN on the sibling's number and is put through.
    const call = await sim(seconds).call({ from: phone, to: seconds.number, digits: [pins[1]] });
    expect(call.heard).not.toContain('say:Too many wrong attempts. Please try again later. Goodbye.');
    expect(call.dials).toHaveLength(1);
  });

  it('a signed text captured and replayed spends its owner’s inbound allowance once, however many copies are sent', async () => {
    const captured = signedText('victim', 'a text overheard on its way in');
    expect((await post(captured)).status).toBe(200);
    // Three bursts' worth of copies, all at once: each answered as the text was, none spending.
    const copies = await Promise.all(Array.from({ length: 3 * INBOUND.burst }, () => post(captured)));
    expect(copies.map((r) => r.status)).toEqual(copies.map(() => 200));
    // The victim's own texts after them still fit in its burst (it spent two in the test before).
    const own = INBOUND.burst - 10;
    const answers = await Promise.all(
      Array.from({ length: own }, (_, i) => post(signedText('victim', `the victim's own text ${i}`))),
    );
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
  });

  it('a tenant creating sessions flat out is held to its share of the room for creation verdicts (429, Retry-After); the other tenant still creates', async () => {
    const greedy = await createAccount(system, 'greedy');
    await addNumber(greedy, '+14155550701', 'plivo', providerAccount('plivo'));
    const create = (account: TestAccount) =>
      account.api('/Masking/Session/', { body: { first_party: nextPhone(), second_party: nextPhone() } });
    const share = (CREATION_ROOM * CREATIONS_PERCENT) / 100;
    let created = 0;
    let refused: Response | undefined;
    while (!refused && created <= share) {
      const res = await create(greedy);
      if (res.status === 201) created++;
      else refused = res;
    }
    expect(created).toBeGreaterThan(0);
    expect(created).toBeLessThan(share);
    expect(refused?.status).toBe(429);
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused?.json()).toEqual({
      api_id: expect.any(String),
      error: expect.stringMatching(/too many sessions created: this account .*CREATIONS_ACCOUNT_PERCENT/),
    });
    // Held to it whatever it asks: again at once, refused.
    expect((await create(greedy)).status).toBe(429);
    // The other tenants create as before.
    for (const provider of ['plivo', 'twilio'] as const)
      expect((await create(accounts.victim[provider])).status).toBe(201);
  });

  it('logs why each webhook was refused, with its code', () => {
    const refusals = system.logs('gateway').filter((l) => l.msg === 'telephony webhook refused');
    expect(refusals.length).toBeGreaterThan(20);
    expect(refusals.every((l) => l.code === 'CALL.FORBIDDEN' && typeof l.reason === 'string')).toBe(true);
  });
});
