import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { connect, headers, type NatsConnection } from 'nats';
import { MessageReceived, MessageTextSeal, eventToWire } from '@maskline/contracts';
import { parseKeyring } from '@maskline/crypto';
import { encodeJson } from '@maskline/messaging';
import { simulatedProvider, type Provider } from '@maskline/telephony-simulator';
import { expectEventually } from '@maskline/testing';
import { createAccount, type TestAccount } from './support/accounts';
import { CallbackReceiver } from './support/callback-receiver';
import { startProviderSandbox, type ProviderSandbox } from '../../deploy/local/provider-sandbox.cjs';
import { E2eSystem } from './support/e2e-system';
import { accountsWithNumbers, addNumbers, providerAccounts } from './support/provider-accounts';
import { sendWebhook, signWebhook } from './support/signed-webhook';
import { consumerCaughtUp, eventsOn } from './support/stream-events';
import { seedDemo } from '../../scripts/seed-demo.cjs';

type Json = Record<string, unknown>;

/** One provider account per dialect, with a number of its own for each kind of test. */
const PROVIDERS = providerAccounts({
  plivo: ['+14155550401', '+14155550402'],
  twilio: ['+14155550501', '+14155550502'],
});
/** A number of the same provider account, in an account of its own, that is told it does not text. */
const NON_TEXTING: Record<Provider, string> = { plivo: '+14155550404', twilio: '+14155550504' };
/** Two numbers of the same provider account, each in an account of its own, with no session on them ever. */
const IDLE: Record<Provider, [string, string]> = {
  plivo: ['+14155550406', '+14155550407'],
  twilio: ['+14155550506', '+14155550507'],
};
/** A number of the same provider account, in an account of its own, whose session Maskline relays through. */
const LOOPING: Record<Provider, string> = { plivo: '+14155550409', twilio: '+14155550509' };
/** A person's phone another tenant adds as its number: no provider account holds it. */
const SQUATTED: Record<Provider, string> = { plivo: '+14155550408', twilio: '+14155550508' };
/** Every text a test sent, to prove no log line carries one. */
const textsSent = new Set<string>();
let phone = 0;
const nextPhone = () => `+1628556${String(1000 + phone++)}`;

describe('message masking through real message webhooks', () => {
  let system: E2eSystem;
  /** Plays the customer's callback endpoint. */
  let outside: CallbackReceiver;
  /** Plays the providers' REST APIs (`npm start`'s sandbox): records every send, fails when told. */
  let providers: ProviderSandbox;
  const accounts = {} as Record<Provider, TestAccount>;
  let nc: NatsConnection;

  beforeAll(async () => {
    outside = await CallbackReceiver.start();
    providers = await startProviderSandbox();
    const providerApis = { PLIVO_API_BASE_URL: providers.url, TWILIO_API_BASE_URL: providers.url };
    system = await E2eSystem.start(
      {},
      (service): Record<string, string> =>
        service === 'call-router'
          ? // Short provider timeouts and breaker pauses: an outage and its end fit in a test. (Not
            // shorter: the sandbox answers from this busy process, and a send it took but answered
            // after the timeout is sent again, rightly, which the exact counts below would miss.)
            {
              ...providerApis,
              MESSAGE_RELAY_ATTEMPTS: '4',
              OUTBOUND_TIMEOUT_MS: '3000',
              BREAKER_RESET_MS: '1000',
              BREAKER_VOLUME_THRESHOLD: '4',
            }
          : service === 'callback-dispatcher'
            ? { CALLBACK_RETRY_SCHEDULE_SECONDS: '1,1,1', CALLBACK_TIMEOUT_MS: '2000' }
            : {},
    );
    // A second router: every message is relayed once whichever replica takes it.
    system.startService('call-router', {}, 'call-router#2');
    await system.waitHealthy();
    nc = await connect({ servers: system.natsUrl });
    Object.assign(accounts, await accountsWithNumbers(system, PROVIDERS, 'messages'));
  });

  afterAll(async () => {
    await nc?.close();
    await system?.stop();
    await outside?.stop();
    await providers?.close();
  });

  describe.each(['plivo', 'twilio'] as const)('%s dialect', (provider) => {
    const api = () => accounts[provider];
    const inboundUrl = () => `${system.baseUrl}/messaging/${provider}/inbound`;
    /** What Maskline asked this dialect's provider account to send. */
    const sends = () =>
      providers.messages.filter(
        (m) => m.provider === provider && m.account === PROVIDERS[provider].accountId,
      );
    const created: string[] = [];

    afterEach(async () => {
      for (const id of created.splice(0)) await api().api(`/Masking/Session/${id}/`, { method: 'DELETE' });
    });

    const createSession = async (body: Json): Promise<Json> => {
      const res = await api().api('/Masking/Session/', { body });
      const json = (await res.json()) as Json;
      expect([res.status, json]).toEqual([201, expect.anything()]);
      created.push(String(json.session_uuid));
      return json;
    };
    const vnOf = (s: Json) => `+${String(s.virtual_number).replace(/^\+/, '')}`;
    const getSessionOf = async (account: TestAccount, path: string) =>
      ((await (await account.api(path)).json()) as { response: Json }).response;
    const getSession = async (id: unknown) =>
      ((await (await api().api(`/Masking/Session/${String(id)}/`)).json()) as { response: Json }).response;

    /** The webhook the provider sends for a message from `from` to `to`, signed with `token`. */
    const inbound = (
      from: string,
      to: string,
      text: string,
      options: { media?: string[]; id?: string; token?: string } = {},
    ) => {
      textsSent.add(text);
      // The provider's own parameters, as the simulator writes them (one definition of the wire format).
      const dialect = simulatedProvider(provider);
      const id = options.id ?? dialect.newMessageId();
      const params = dialect.messageParams(id, from, to, text, options.media ?? [], PROVIDERS[provider]);
      return {
        id,
        webhook: signWebhook(provider, inboundUrl(), params, options.token ?? PROVIDERS[provider].authToken),
      };
    };
    const text = async (
      from: string,
      to: string,
      body: string,
      options: Parameters<typeof inbound>[3] = {},
    ) => {
      const { id, webhook } = inbound(from, to, body, options);
      const res = await sendWebhook(webhook);
      expect(res.status).toBe(200);
      if (provider === 'plivo') expect(res.body).toBe('');
      else expect(res.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
      return id;
    };
    /** A new account holding `number`, on this dialect's provider account. */
    const accountWithNumber = async (name: string, number: string, extra: Json = {}) => {
      const account = await createAccount(system, name);
      expect((await addNumbers(account, provider, PROVIDERS[provider], [number], extra)).status).toBe(202);
      return account;
    };
    /** Every relay-consumer message so far has been dealt with (no send still to come). */
    const settled = () =>
      expectEventually(async () =>
        expect(await consumerCaughtUp(nc, 'call-router-message-relay')).toBe(true),
      );

    it('relays each party’s texts to the other, from the virtual number: both ways, media, unicode, emoji, 1,600 characters', async () => {
      const [first, second] = [nextPhone(), nextPhone()];
      const s = await createSession({
        first_party: first,
        second_party: second,
        message_masking: true,
        callback_url: `${outside.baseUrl}/cb/${provider}/relay`,
      });
      expect((s.session as Json).message_masking).toBe(true);
      const vn = vnOf(s);
      // 1,600 characters (the most either provider takes), not all GSM: UCS-2, 1,601 units, 24 segments.
      const long = 'x'.repeat(1592) + 'ünïcødé🚕';
      const bodies = ['I am at gate B', 'Где ты? 🚕🚦', long];
      expect([...long]).toHaveLength(1600);
      await text(first, vn, bodies[0]);
      await text(second, vn, bodies[1], {
        media: [`${providers.url}/media/a.jpg`, `${providers.url}/media/b.png`],
      });
      await text(first, vn, bodies[2]);
      const got = await expectEventually(() => {
        const mine = sends().filter((x) => x.from === vn);
        expect(mine).toHaveLength(3);
        return mine;
      });
      const byText = (t: string) => got.find((x) => x.text === t);
      expect(byText(bodies[0])).toMatchObject({ to: second, media: [] });
      expect(byText(bodies[1])).toMatchObject({
        to: first,
        media: [`${providers.url}/media/a.jpg`, `${providers.url}/media/b.png`],
      });
      expect(byText(bodies[2])).toMatchObject({ to: second });
      // The stream holds texts and media URLs sealed (a provider may serve a media URL to anyone holding it).
      const inStream = JSON.stringify(await eventsOn(nc, MessageReceived));
      expect(inStream).not.toContain('/media/a.jpg');
      expect(inStream).not.toContain('gate B');

      // The interactions show the messages (never their text), and the totals count them.
      const view = await expectEventually(async () => {
        const v = await getSession(s.session_uuid);
        expect(v.total_message_count).toBe(3);
        return v;
      });
      const messages = (view.interaction as Json[]).filter((i) => i.type === 'message');
      expect(messages.map((m) => [m.direction, m.status, m.from_party, m.to_party])).toEqual(
        expect.arrayContaining([
          ['first_party_to_second_party', 'relayed', first.slice(1), second.slice(1)],
          ['second_party_to_first_party', 'relayed', second.slice(1), first.slice(1)],
        ]),
      );
      expect(messages.map((m) => m.segment_count).sort()).toEqual([1, 1, 24]);
      expect(JSON.stringify(view)).not.toContain('gate B');

      // Callbacks: signed like the rest, in Plivo's naming style, without the text.
      const callbacks = await expectEventually(() => {
        const cbs = outside
          .for(`/cb/${provider}/relay`)
          .filter(
            (r) => r.params.EventName === 'SessionMessageRelayed' && r.params.SessionUUID === s.session_uuid,
          );
        expect(cbs).toHaveLength(3);
        return cbs;
      });
      for (const cb of callbacks) {
        expect(cb.params).toMatchObject({ VirtualNumber: vn.slice(1), SequenceNumber: expect.any(String) });
        expect(cb.params.MessageUUID).toBeTruthy();
        expect(cb.headers['x-plivo-signature-v3']).toBeTruthy();
        for (const b of bodies) expect(JSON.stringify(cb.params)).not.toContain(b.slice(0, 12));
      }
    });

    it('relays nothing until message_masking is switched on by an update; a PIN session’s stranger cannot text in', async () => {
      const [first, second, stranger] = [nextPhone(), nextPhone(), nextPhone()];
      const s = await createSession({ first_party: first, second_party: second });
      expect((s.session as Json).message_masking).toBe(false);
      const vn = vnOf(s);
      await text(first, vn, 'before the switch');
      await settled();
      expect(sends().filter((x) => x.text === 'before the switch')).toEqual([]);

      const updated = await api().api(`/Masking/Session/${String(s.session_uuid)}/`, {
        body: { message_masking: true },
      });
      expect(updated.status).toBe(200);
      expect(((await updated.json()) as { session: Json }).session.message_masking).toBe(true);
      await text(second, vn, 'after the switch');
      await expectEventually(() =>
        expect(
          sends()
            .filter((x) => x.text === 'after the switch')
            .map((x) => x.to),
        ).toEqual([first]),
      );
      await text(stranger, vn, 'let me in');
      await settled();
      expect(sends().filter((x) => x.text === 'let me in')).toEqual([]);
    });

    it('refuses the account’s own virtual numbers as parties (400 naming the field); relays nothing that comes back from a number Maskline texted it from, nor answers it', async () => {
      const own = PROVIDERS[provider].numbers[1];
      const refused = await api().api('/Masking/Session/', {
        body: { first_party: nextPhone(), second_party: own, message_masking: true },
      });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as Json).error).toMatch(
        /^second_party must not be one of this account's virtual numbers/,
      );
      const single = await createSession({
        first_party: nextPhone(),
        create_session_with_single_party: true,
      });
      const update = await api().api(`/Masking/Session/${String(single.session_uuid)}/`, {
        body: { second_party: own.slice(1) },
      });
      expect(update.status).toBe(400);
      expect(((await update.json()) as Json).error).toMatch(
        /^second_party must not be one of this account's virtual numbers/,
      );
      // Still without its second party (Plivo's view shows an absent party as an empty string).
      expect(((await getSession(single.session_uuid)) as Json).second_party).toBe('');

      // Another account's number is taken as a party (refusing it would tell which numbers Maskline
      // serves), and texts go to it; but a text Maskline itself sent from it to this number (its own
      // session relays to this number), coming back in, is dropped, unanswered, even with a fallback
      // message set: relaying or answering it would send it round and round.
      const other = LOOPING[provider];
      const otherAccount = await accountWithNumber(`looping-${provider}`, other);
      const first = nextPhone();
      const s = await createSession({ first_party: first, second_party: other, message_masking: true });
      const vn = vnOf(s);
      const x = nextPhone();
      const inUse = await otherAccount.api('/Masking/Session/', {
        body: { first_party: x, second_party: vn, message_masking: true },
      });
      expect(inUse.status).toBe(201);
      const its = (await inUse.json()) as Json;
      expect(vnOf(its)).toBe(other);
      const set = await api().api(`/Number/${vn.slice(1)}/`, { body: { fallback_message: 'Not here.' } });
      expect(set.status).toBe(202);
      try {
        await text(x, other, 'round and round');
        await expectEventually(() =>
          expect(
            sends()
              .filter((m) => m.text === 'round and round')
              .map((m) => [m.from, m.to]),
          ).toEqual([[other, vn]]),
        );
        await settled();
        // Playing the carrier: the text Maskline sent arrives at this number.
        await text(other, vn, 'round and round');
        await settled();
        expect(sends().filter((m) => m.text === 'round and round')).toHaveLength(1);
        expect(sends().filter((m) => m.to === other || m.to === first)).toEqual([]);
        await text(first, vn, 'to the other party');
        await expectEventually(() =>
          expect(
            sends()
              .filter((m) => m.text === 'to the other party')
              .map((m) => [m.from, m.to]),
          ).toEqual([[vn, other]]),
        );
      } finally {
        await api().api(`/Number/${vn.slice(1)}/`, { body: { fallback_message: '' } });
        await otherAccount.api(`/Masking/Session/${String(its.session_uuid)}/`, { method: 'DELETE' });
      }
    });

    it('relays a phone’s texts even when another tenant added that phone as its own number and keeps a session on it: only a send its provider took makes a number one Maskline texts from', async () => {
      const phone = SQUATTED[provider];
      // Its provider account held it when it was added (number-pool asks the system's sandbox, which
      // says so), and no longer does: the providers that send refuse a text from it. (A number no
      // provider account holds cannot be added with credentials at all: test/e2e/calls.e2e-spec.ts.)
      providers.disown(phone);
      const squatter = await accountWithNumber(`squatter-${provider}`, phone);
      const [a, b] = [nextPhone(), nextPhone()];
      const held = await squatter.api('/Masking/Session/', {
        body: { first_party: a, second_party: b, message_masking: true },
      });
      expect(held.status).toBe(201);
      const heldSession = (await held.json()) as Json;
      expect(vnOf(heldSession)).toBe(phone);
      try {
        // The squatter has Maskline text from the phone (a webhook it signs itself): the provider
        // account it gave refuses, since it does not hold the phone.
        await text(a, phone, 'from the squatted phone');
        await expectEventually(() =>
          expect(providers.refused.filter((r) => r.from === phone).map((r) => r.to)).toEqual([b]),
        );
        await settled();
        // The phone's owner, a party of this account's session, texts it: relayed as anyone's text.
        const other = nextPhone();
        const s = await createSession({ first_party: phone, second_party: other, message_masking: true });
        await text(phone, vnOf(s), 'from the phone’s owner');
        await expectEventually(() =>
          expect(
            sends()
              .filter((m) => m.text === 'from the phone’s owner')
              .map((m) => [m.from, m.to]),
          ).toEqual([[vnOf(s), other]]),
        );
      } finally {
        await squatter.api(`/Masking/Session/${String(heldSession.session_uuid)}/`, { method: 'DELETE' });
      }
    });

    it('answers a text from another account’s number with nobody in a session on it as it answers anyone: two such numbers with fallbacks answer each other once an interval, never round and round', async () => {
      const [one, two] = IDLE[provider];
      const owners = [
        await accountWithNumber(`idle-one-${provider}`, one),
        await accountWithNumber(`idle-two-${provider}`, two),
      ];
      const fallback = async (i: number, message: string) => {
        const n = [one, two][i];
        const set = await owners[i].api(`/Number/${n.slice(1)}/`, { body: { fallback_message: message } });
        expect(set.status).toBe(202);
      };
      await fallback(0, 'One is idle.');
      await fallback(1, 'Two is idle.');
      const between = () =>
        sends()
          .filter((x) => [x.from, x.to].every((n) => n === one || n === two))
          .map((x) => [x.from, x.to, x.text]);
      try {
        // Playing the carrier: whatever Maskline sends to one of the two numbers comes back in to it,
        // until nothing more is sent (a loop would go on: the test stops after ten).
        await text(one, two, 'from one idle number to another');
        let delivered = 0;
        for (;;) {
          await settled();
          const now = between();
          if (now.length === delivered) break;
          for (const [from, to, body] of now.slice(delivered)) await text(from, to, body);
          delivered = now.length;
          expect(delivered).toBeLessThan(10);
        }
        expect(between()).toEqual([
          [two, one, 'Two is idle.'],
          [one, two, 'One is idle.'],
        ]);
      } finally {
        await fallback(0, '');
        await fallback(1, '');
      }
    });

    it('answers a stranger, an expired session and a number with no session with the number’s fallback_message, once per sender per hour; with none set, sends nothing', async () => {
      const number = PROVIDERS[provider].numbers[1];
      const stranger = nextPhone();
      // No fallback set: nothing goes back.
      await text(stranger, number, 'anyone there?');
      await settled();
      expect(sends().filter((x) => x.to === stranger)).toEqual([]);

      const set = await api().api(`/Number/${number.slice(1)}/`, {
        body: { fallback_message: 'This number no longer takes messages.' },
      });
      expect(set.status).toBe(202);
      await text(stranger, number, 'hello? is this the driver?');
      await settled();
      expect(
        sends()
          .filter((x) => x.to === stranger)
          .map((x) => [x.from, x.text]),
      ).toEqual([[number, 'This number no longer takes messages.']]);
      // Within the hour the same sender gets no second answer (an auto-responder cannot loop with it).
      await text(stranger, number, 'hello again');
      await settled();
      expect(sends().filter((x) => x.to === stranger)).toHaveLength(1);

      // A party of a session that has ended is answered too.
      const [first, second] = [nextPhone(), nextPhone()];
      const s = await createSession({ first_party: first, second_party: second, message_masking: true });
      const vn = vnOf(s);
      await api().api(`/Masking/Session/${String(s.session_uuid)}/`, { method: 'DELETE' });
      await text(first, vn, 'are you still there?');
      if (vn === number) {
        await expectEventually(() =>
          expect(
            sends()
              .filter((x) => x.to === first)
              .map((x) => x.text),
          ).toEqual(['This number no longer takes messages.']),
        );
      } else {
        await settled();
        expect(sends().filter((x) => x.to === first)).toEqual([]);
      }
      expect(sends().filter((x) => x.to === second)).toEqual([]);
      const cleared = await api().api(`/Number/${number.slice(1)}/`, { body: { fallback_message: '' } });
      expect(cleared.status).toBe(202);
    });

    it('keeps message masking to numbers that text: none given to such a session, none switched on, nothing sent from one', async () => {
      const number = NON_TEXTING[provider];
      const numberPath = `/Number/${number.slice(1)}/`;
      const account = await accountWithNumber(`no-texting-${provider}`, number, { sms_enabled: false });
      expect(await (await account.api(numberPath)).json()).toMatchObject({
        voice_enabled: true,
        sms_enabled: false,
      });
      const [first, second] = [nextPhone(), nextPhone()];

      // A session that texts needs a number that texts: this account has none.
      const refused = await account.api('/Masking/Session/', {
        body: { first_party: first, second_party: second, message_masking: true },
      });
      expect(refused.status).toBe(409);
      expect(((await refused.json()) as Json).error).toContain('that takes text messages');

      // A calls-only session gets the number, and cannot switch masking on while the number does not text.
      const created = await account.api('/Masking/Session/', {
        body: { first_party: first, second_party: second },
      });
      expect(created.status).toBe(201);
      const session = (await created.json()) as Json;
      const sessionPath = `/Masking/Session/${String(session.session_uuid)}/`;
      try {
        expect(vnOf(session)).toBe(number);
        const switched = await account.api(sessionPath, { body: { message_masking: true } });
        expect(switched.status).toBe(400);
        expect(((await switched.json()) as Json).error).toMatch(
          /^message_masking cannot be turned on: .*sms_enabled is false/,
        );
        expect((await getSessionOf(account, sessionPath)).message_masking).toBe(false);

        // Once the number texts, masking goes on; a number turned back to calls only sends nothing.
        expect((await account.api(numberPath, { body: { sms_enabled: true } })).status).toBe(202);
        expect((await account.api(sessionPath, { body: { message_masking: true } })).status).toBe(200);
        expect((await account.api(numberPath, { body: { sms_enabled: false } })).status).toBe(202);
        const id = await text(first, number, 'sent to a number that no longer texts');
        await expectEventually(async () =>
          expect((await getSessionOf(account, sessionPath)).interaction).toEqual([
            expect.objectContaining({
              type: 'message',
              message_uuid: id,
              status: 'failed',
              failure_reason: 'sms-disabled',
            }),
          ]),
        );
        expect(providers.messages.filter((m) => m.from === number)).toEqual([]);
      } finally {
        await account.api(sessionPath, { method: 'DELETE' });
      }
    });

    it('refuses a text longer than the provider takes with a SessionMessageFailed event, never a cut copy', async () => {
      const [first, second] = [nextPhone(), nextPhone()];
      const s = await createSession({
        first_party: first,
        second_party: second,
        message_masking: true,
        callback_url: `${outside.baseUrl}/cb/${provider}/long`,
      });
      const tooLong = 'y'.repeat(1601);
      const id = await text(first, vnOf(s), tooLong);
      const failed = await expectEventually(() => {
        const cb = outside
          .for(`/cb/${provider}/long`)
          .find((r) => r.params.EventName === 'SessionMessageFailed');
        expect(cb).toBeDefined();
        return cb!;
      });
      expect(failed.params).toMatchObject({
        MessageUUID: id,
        FailureReason: 'too-long',
        MessageLength: '1601',
      });
      expect(sends().filter((x) => x.to === second)).toEqual([]);
      const view = await getSession(s.session_uuid);
      expect((view.interaction as Json[]).find((i) => i.type === 'message')).toMatchObject({
        status: 'failed',
        failure_reason: 'too-long',
      });
    });

    it('retries after 503 and 429 (honouring Retry-After) and sends once', async () => {
      const [first, second] = [nextPhone(), nextPhone()];
      const s = await createSession({ first_party: first, second_party: second, message_masking: true });
      providers.failNext(1, 503);
      providers.failNext(1, 429, { 'retry-after': '1' });
      const before = providers.requests();
      await text(first, vnOf(s), 'third time lucky');
      await expectEventually(
        () =>
          expect(
            sends()
              .filter((x) => x.text === 'third time lucky')
              .map((x) => x.to),
          ).toEqual([second]),
        { timeoutMs: 20_000 },
      );
      await settled();
      // Refused twice, taken the third time; sent once.
      expect(providers.requests() - before).toBe(3);
      const view = await expectEventually(async () => {
        const v = await getSession(s.session_uuid);
        expect(v.total_message_count).toBe(1);
        return v;
      });
      expect((view.interaction as Json[]).find((i) => i.type === 'message')).toMatchObject({
        status: 'relayed',
      });
    });

    it('sends once when the provider sends the webhook again, and when the event is redelivered to either router', async () => {
      const [first, second] = [nextPhone(), nextPhone()];
      const s = await createSession({ first_party: first, second_party: second, message_masking: true });
      const vn = vnOf(s);
      const { id, webhook } = inbound(first, vn, 'only once please');
      // The provider retries its webhook.
      const answers3 = await Promise.all([sendWebhook(webhook), sendWebhook(webhook), sendWebhook(webhook)]);
      expect(answers3.map((a) => a.status)).toEqual([200, 200, 200]);
      // The same message as events the stream cannot tell apart (past its duplicate window): both routers take them.
      const seal = new MessageTextSeal(parseKeyring(system.secrets.CALL_CONTEXT_KEYS));
      const payload = {
        provider,
        providerMessageId: id,
        accountId: api().authId,
        virtualNumber: vn,
        sender: first,
        text: seal.seal('only once please', { provider, providerMessageId: id, virtualNumber: vn }),
        media: [],
        at: new Date().toISOString(),
      };
      const js = nc.jetstream();
      const { body } = eventToWire(MessageReceived, MessageReceived.payload.parse(payload) as Json);
      for (let i = 0; i < 6; i++) {
        const h = headers();
        h.set('Nats-Msg-Id', `redelivered-${id}-${i}`);
        await js.publish(MessageReceived.subject, encodeJson(body), { headers: h });
      }
      await settled();
      expect(sends().filter((x) => x.text === 'only once please')).toHaveLength(1);
      const relayed = (await eventsOn(nc, MessageReceived)).filter((e) => e.providerMessageId === id);
      expect(relayed.length).toBe(7);
    });

    it('refuses a forged, unsigned or foreign-signed webhook with 403 and sends nothing', async () => {
      const [first, second] = [nextPhone(), nextPhone()];
      const s = await createSession({ first_party: first, second_party: second, message_masking: true });
      const vn = vnOf(s);
      const forged = inbound(first, vn, 'forged', { token: randomBytes(20).toString('hex') }).webhook;
      expect((await sendWebhook(forged)).status).toBe(403);
      const unsigned = inbound(first, vn, 'unsigned').webhook;
      expect(
        (await sendWebhook({ ...unsigned, headers: { 'content-type': unsigned.headers['content-type'] } }))
          .status,
      ).toBe(403);
      // Signed properly, then changed on the way: the signature no longer holds.
      const tampered = inbound(first, vn, 'tampered').webhook;
      const key = provider === 'plivo' ? 'Text' : 'Body';
      expect(
        (await sendWebhook({ ...tampered, params: { ...tampered.params, [key]: 'changed' } })).status,
      ).toBe(403);
      // A number Maskline does not serve.
      const elsewhere = inbound(first, '+14155550999', 'elsewhere').webhook;
      expect((await sendWebhook(elsewhere)).status).toBe(403);
      await settled();
      expect(
        sends().filter((x) => ['forged', 'unsigned', 'changed', 'tampered', 'elsewhere'].includes(x.text)),
      ).toEqual([]);
    });

    it('refuses a captured webhook re-split around parameters planted in its text (a forged sender, another number): the same signed request is taken once', async () => {
      const [a, b, c, stranger] = [nextPhone(), nextPhone(), nextPhone(), nextPhone()];
      const one = await createSession({ first_party: a, second_party: b, message_masking: true });
      // A second session of `a`: on another number (a party has one session per number).
      const two = await createSession({ first_party: a, second_party: c, message_masking: true });
      const [vn1, vn2] = [vnOf(one), vnOf(two)];
      expect(vn2).not.toBe(vn1);
      const params = simulatedProvider(provider).messageParams;
      // Both providers sign the sorted `keyvalue` pairs joined with nothing between them, so a text
      // that spells out parameters can be split into them, the real ones after it taken into one.
      const plan =
        provider === 'twilio'
          ? (() => {
              // A stranger's text to vn1, re-split as a text from `a` (its party) with a new id.
              const forged = `SM${randomBytes(16).toString('hex')}`;
              const planted = `hiFrom${a}MessageSid${forged}NumMedia0NumSegments1SmsMessageSid${forged}SmsStatus`;
              const original = params(
                `SM${randomBytes(16).toString('hex')}`,
                stranger,
                vn1,
                planted,
                [],
                PROVIDERS.twilio,
              );
              const { AccountSid, From, MessageSid, NumMedia, NumSegments, SmsMessageSid, To } = original;
              const tail = `From${From}MessageSid${MessageSid}NumMedia${NumMedia}NumSegments${NumSegments}SmsMessageSid${SmsMessageSid}`;
              const resplit = {
                AccountSid,
                Body: 'hi',
                From: a,
                MessageSid: forged,
                NumMedia: '0',
                NumSegments: '1',
                SmsMessageSid: forged,
                SmsStatus: tail,
                To,
              };
              return { original, resplit, victim: b };
            })()
          : (() => {
              // `a`'s text to vn1 (for `b`), re-split as a text to vn2 (for `c`): Plivo's To follows Text.
              const original = params(
                randomUUID(),
                a,
                vn1,
                `hiTo${vn2.slice(1)}TypesmsUnits`,
                [],
                PROVIDERS.plivo,
              );
              const resplit = {
                From: original.From,
                MessageUUID: original.MessageUUID,
                Text: 'hi',
                To: vn2.slice(1),
                Type: 'sms',
                Units: `To${original.To}Type${original.Type}`,
              };
              return { original, resplit, victim: c };
            })();
      const signed = signWebhook(provider, inboundUrl(), plan.original, PROVIDERS[provider].authToken);
      // The re-split is the same signed request: its signature, computed afresh, is the one captured.
      const nonce = signed.headers['X-Plivo-Signature-V3-Nonce'];
      expect(
        signWebhook(provider, inboundUrl(), plan.resplit, PROVIDERS[provider].authToken, nonce).headers,
      ).toEqual(signed.headers);
      expect((await sendWebhook(signed)).status).toBe(200);
      await settled();
      const before = sends().filter((x) => x.to === plan.victim).length;
      expect((await sendWebhook({ ...signed, params: plan.resplit })).status).toBe(403);
      await settled();
      expect(sends().filter((x) => x.to === plan.victim)).toHaveLength(before);
      expect(sends().filter((x) => x.text === 'hi')).toEqual([]);
    });

    it('refuses a text whose media URL is not one Maskline takes with 400 naming its parameter, never sending it without the media', async () => {
      const [first, second] = [nextPhone(), nextPhone()];
      const s = await createSession({ first_party: first, second_party: second, message_masking: true });
      const field = provider === 'plivo' ? 'Media1' : 'MediaUrl1';
      for (const bad of ['https://media.maskline.test/a "quoted" name.jpg', 'javascript:alert(1)']) {
        const { webhook } = inbound(first, vnOf(s), 'picture with a broken link', {
          media: [`${providers.url}/media/ok.jpg`, bad],
        });
        const res = await fetch(webhook.url, {
          method: 'POST',
          headers: webhook.headers,
          body: new URLSearchParams(webhook.params).toString(),
        });
        expect(res.status).toBe(400);
        expect(JSON.stringify(await res.json())).toContain(`${field} must be an http(s) URL`);
      }
      await settled();
      expect(sends().filter((x) => x.to === second)).toEqual([]);
    });

    it('refuses a captured webhook re-split so that its signature holds but its message id is new (400), and relays the text once', async () => {
      const [first, second] = [nextPhone(), nextPhone()];
      const s = await createSession({ first_party: first, second_party: second, message_masking: true });
      // Short, so that the folded id (36 + 4 + 9 characters for Plivo) is within any length limit.
      const { webhook } = inbound(first, vnOf(s), 'said once');
      expect((await sendWebhook(webhook)).status).toBe(200);
      await expectEventually(() =>
        expect(
          sends()
            .filter((x) => x.to === second)
            .map((x) => x.text),
        ).toEqual(['said once']),
      );
      // Both providers sign `keyvalue` pairs joined with nothing: the parameter after the id, folded
      // into the id's value, leaves the signed string (and so the signature) as it was.
      const [idKey, nextKey] = provider === 'plivo' ? ['MessageUUID', 'Text'] : ['MessageSid', 'NumMedia'];
      const { [nextKey]: folded, ...rest } = webhook.params;
      const resplit = { ...rest, [idKey]: `${webhook.params[idKey]}${nextKey}${folded}` };
      const refused = await fetch(webhook.url, {
        method: 'POST',
        headers: webhook.headers,
        body: new URLSearchParams(resplit).toString(),
      });
      // 400, not 403: the signature verified, the id's form did not.
      expect(refused.status).toBe(400);
      expect(JSON.stringify(await refused.json())).toContain(
        provider === 'plivo' ? 'MessageUUID must be a UUID' : 'MessageSid must be SM or MM',
      );
      await settled();
      expect(sends().filter((x) => x.to === second)).toHaveLength(1);
    });
  });

  it('a provider account whose API stops answering loses nothing: its texts wait, are relayed once when it answers again, and another account’s go on meanwhile', async () => {
    const down = {
      accountId: `MA${randomBytes(9).toString('hex').toUpperCase()}`,
      authToken: randomBytes(20).toString('hex'),
    };
    const number = '+14155550405';
    const team = await createAccount(system, 'messages-outage');
    const added = await team.api('/Number/', {
      body: {
        numbers: number,
        provider: 'plivo',
        provider_auth_id: down.accountId,
        provider_auth_token: down.authToken,
      },
    });
    expect(added.status).toBe(202);
    const [first, second] = [nextPhone(), nextPhone()];
    const created = await team.api('/Masking/Session/', {
      body: { first_party: first, second_party: second, message_masking: true },
    });
    expect(created.status).toBe(201);
    const session = (await created.json()) as Json;
    const url = `${system.baseUrl}/messaging/plivo/inbound`;
    const dialect = simulatedProvider('plivo');
    const textIn = async (
      from: string,
      to: string,
      body: string,
      account: { accountId: string; authToken: string },
    ) => {
      textsSent.add(body);
      const params = dialect.messageParams(dialect.newMessageId(), from, to, body, [], account);
      expect((await sendWebhook(signWebhook('plivo', url, params, account.authToken))).status).toBe(200);
    };

    providers.hangAccount(down.accountId);
    // More texts than the breaker needs to open: each first send times out, the rest wait behind it.
    const waiting = Array.from({ length: 12 }, (_, i) => `during the outage ${i}`);
    for (const body of waiting) await textIn(first, number, body, down);
    // Another account's texts are relayed meanwhile.
    const [otherFirst, otherSecond] = [nextPhone(), nextPhone()];
    const other = await accounts.plivo.api('/Masking/Session/', {
      body: { first_party: otherFirst, second_party: otherSecond, message_masking: true },
    });
    const otherSession = (await other.json()) as Json;
    await textIn(otherFirst, `+${String(otherSession.virtual_number)}`, 'unaffected', PROVIDERS.plivo);
    await expectEventually(() =>
      expect(providers.messages.filter((m) => m.text === 'unaffected').map((m) => m.to)).toEqual([
        otherSecond,
      ]),
    );
    await expectEventually(
      async () =>
        expect(
          await system.metric('call-router', 'maskline_message_retries_held_back_total'),
        ).toBeGreaterThan(0),
      { timeoutMs: 30_000 },
    );
    expect(providers.messages.filter((m) => m.from === number)).toEqual([]);
    // Texts that come while it is held back are stored under their plan at their first look (parked:
    // not claimed and given back), and go with the others. (One of them may be the breaker's trial.)
    const parkedBefore = await system.metric('call-router', 'maskline_message_relays_parked_total');
    for (const body of ['while held back 0', 'while held back 1']) {
      waiting.push(body);
      await textIn(first, number, body, down);
    }
    await expectEventually(async () =>
      expect(await system.metric('call-router', 'maskline_message_relays_parked_total')).toBeGreaterThan(
        parkedBefore,
      ),
    );

    providers.answerAgain(down.accountId);
    await expectEventually(
      () =>
        expect(
          providers.messages
            .filter((m) => m.from === number)
            .map((m) => m.text)
            .sort(),
        ).toEqual([...waiting].sort()),
      { timeoutMs: 90_000 },
    );
    await expectEventually(async () => {
      const view = (
        (await (await team.api(`/Masking/Session/${String(session.session_uuid)}/`)).json()) as {
          response: Json;
        }
      ).response;
      expect(view.total_message_count).toBe(waiting.length);
      expect((view.interaction as Json[]).every((i) => i.status === 'relayed')).toBe(true);
    });
    await team.api(`/Masking/Session/${String(session.session_uuid)}/`, { method: 'DELETE' });
    await accounts.plivo.api(`/Masking/Session/${String(otherSession.session_uuid)}/`, { method: 'DELETE' });
  });

  it('an id another tenant puts in its own webhooks shadows nothing: the victim’s message with that id is still relayed and recorded', async () => {
    // The attacker: another Maskline account, with its own Plivo account and number (it can sign anything for it).
    const attacker = {
      accountId: `MA${randomBytes(9).toString('hex').toUpperCase()}`,
      authToken: randomBytes(20).toString('hex'),
    };
    const evil = await createAccount(system, 'messages-attacker');
    const added = await evil.api('/Number/', {
      body: {
        numbers: '+14155550403',
        provider: 'plivo',
        provider_auth_id: attacker.accountId,
        provider_auth_token: attacker.authToken,
      },
    });
    expect(added.status).toBe(202);
    const [a1, a2, v1, v2] = [nextPhone(), nextPhone(), nextPhone(), nextPhone()];
    const own = await evil.api('/Masking/Session/', {
      body: { first_party: a1, second_party: a2, message_masking: true },
    });
    expect(own.status).toBe(201);
    const victim = await accounts.plivo.api('/Masking/Session/', {
      body: { first_party: v1, second_party: v2, message_masking: true },
    });
    const vs = (await victim.json()) as Json;
    const vn = `+${String(vs.virtual_number)}`;
    const id = randomUUID();
    const url = `${system.baseUrl}/messaging/plivo/inbound`;
    const params = (from: string, to: string, t: string) => ({
      MessageUUID: id,
      From: from.slice(1),
      To: to.slice(1),
      Text: t,
      Type: 'sms',
    });
    textsSent.add('attacker got here first');
    textsSent.add('the victim’s own words');
    // The attacker sends first, with the id the victim's message will carry.
    expect(
      (
        await sendWebhook(
          signWebhook(
            'plivo',
            url,
            params(a1, '+14155550403', 'attacker got here first'),
            attacker.authToken,
          ),
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await sendWebhook(
          signWebhook('plivo', url, params(v1, vn, 'the victim’s own words'), PROVIDERS.plivo.authToken),
        )
      ).status,
    ).toBe(200);
    await expectEventually(() => {
      const texts = providers.messages;
      expect(texts.filter((x) => x.text === 'the victim’s own words').map((x) => x.to)).toEqual([v2]);
    });
    const view = await expectEventually(async () => {
      const v = (
        (await (await accounts.plivo.api(`/Masking/Session/${String(vs.session_uuid)}/`)).json()) as {
          response: Json;
        }
      ).response;
      expect(v.total_message_count).toBe(1);
      return v;
    });
    expect((view.interaction as Json[]).find((i) => i.type === 'message')).toMatchObject({
      message_uuid: id,
      status: 'relayed',
    });
    await accounts.plivo.api(`/Masking/Session/${String(vs.session_uuid)}/`, { method: 'DELETE' });
  });

  it('`npm run demo`: the seeded demo account makes a PIN call, then the parties text each other through the number', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'maskline-demo-'));
    const stateFile = join(stateDir, 'demo-account.json');
    try {
      await seedDemo({
        baseUrl: system.baseUrl,
        operatorKey: system.operatorKey,
        stateFile,
        sandboxUrl: providers.url,
      });
      // Run beside this process, not blocking it: the provider sandbox the demo reads lives here.
      const demo = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['-r', './tools/runtime/alias-hook.cjs', 'dist/workspace/libs/telephony-simulator/src/demo.js'],
          {
            env: { ...process.env, MASKLINE_DEMO_STATE: stateFile, MASKLINE_URL: system.baseUrl },
            timeout: 60_000,
          },
          (err, stdout, stderr) =>
            resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
      expect(demo.stderr).toBe('');
      expect(demo.status).toBe(0);
      expect(demo.stdout).toContain('Please enter your PIN');
      expect(demo.stdout).toContain('That PIN is not correct.');
      expect(demo.stdout).toContain('Both calls were connected');
      expect(demo.stdout).not.toMatch(/typed \d/);
      expect(demo.stdout).toContain('rider');
      expect(demo.stdout).toMatch(/the driver's phone shows it from \+1\d+, not from \+1\d+/);
      expect(demo.stdout).toMatch(/the rider's phone shows it from \+1\d+, not from \+1\d+/);
      expect(demo.stdout).toContain('The session counts 2 messages');
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('writes no message text to any log line (every service logged at debug level)', () => {
    const raw = system.rawLogs();
    expect(raw.length).toBeGreaterThan(1000);
    // Texts long enough not to occur by chance (short test words like "forged" name things in logs too).
    const texts = [...textsSent].filter((t) => t.length >= 12);
    expect(texts.length).toBeGreaterThan(10);
    for (const t of texts) expect(raw).not.toContain(t.slice(0, 40));
    // Every service that hears message events takes them without complaint.
    const complaints = raw
      .split('\n')
      .filter((l) => /"level":"(error|fatal)"/.test(l) && l.includes('events.message'));
    expect(complaints).toEqual([]);
  });
});
