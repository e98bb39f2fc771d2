import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { CallProgressed } from '@maskline/contracts';
import { TelephonySimulator, type CallReport, type Provider } from '@maskline/telephony-simulator';
import { expectEventually } from '@maskline/testing';
import { createAccount, type TestAccount } from './support/accounts';
import { CallbackReceiver } from './support/callback-receiver';
import { E2eSystem } from './support/e2e-system';
import { accountsWithNumbers, addNumbers, providerAccounts } from './support/provider-accounts';
import { consumerCaughtUp, eventsOn } from './support/stream-events';

type Json = Record<string, unknown>;

const SPOKEN = {
  notInService: 'say:This number is not in service. Goodbye.',
  unknownCaller: 'say:This number can only be reached from a registered phone. Goodbye.',
  pinPrompt: 'say:Please enter your PIN, followed by the pound key.',
  incorrectPin: 'say:That PIN is not correct.',
  locked: 'say:Too many wrong attempts. Please try again later. Goodbye.',
  unavailable: 'say:We cannot connect your call right now. Please try again later. Goodbye.',
};

/** One provider account per dialect, as a team would configure it at Plivo or Twilio. */
const PROVIDERS = providerAccounts({
  plivo: ['+14155550201', '+14155550202'],
  twilio: ['+14155550301', '+14155550302'],
});

/** Every PIN a test typed or read, to prove no log line carries one. */
const pinsSeen = new Set<string>();

let phone = 0;
/** A fresh phone number for each party, so tests never share a caller. */
const nextPhone = () => `+1628555${String(1000 + phone++)}`;

describe('call routing through real telephony webhooks', () => {
  let system: E2eSystem;
  /** Plays the customer's endpoints (callbacks, the fallback application) and the providers' REST APIs. */
  let outside: CallbackReceiver;
  /** Prompts and messages to play: the provider fetches them; here they name the local receiver. */
  const media = () => `${outside.baseUrl}/media`;
  const accounts = {} as Record<Provider, TestAccount>;
  let nc: NatsConnection;

  beforeAll(async () => {
    outside = await CallbackReceiver.start();
    outside.on('/app/answer', (r) => ({
      status: 200,
      headers: { 'content-type': 'application/xml' },
      body: `<Response>${r.params.CallUUID ? '<Speak>' : '<Say>'}customer app${r.params.CallUUID ? '</Speak>' : '</Say>'}</Response>`,
    }));
    outside.on(`/v1/Account/${PROVIDERS.plivo.accountId}/Call/`, () => ({ status: 201 }));
    outside.on(`/2010-04-01/Accounts/${PROVIDERS.twilio.accountId}/Calls.json`, () => ({ status: 201 }));
    system = await E2eSystem.start(
      {},
      (service): Record<string, string> =>
        service === 'call-router'
          ? { PLIVO_API_BASE_URL: outside.baseUrl, TWILIO_API_BASE_URL: outside.baseUrl }
          : service === 'callback-dispatcher'
            ? { CALLBACK_RETRY_SCHEDULE_SECONDS: '1,1,1', CALLBACK_TIMEOUT_MS: '2000' }
            : service === 'pin-auth'
              ? // Tests share two numbers per dialect: lock callers, not the numbers.
                { NUMBER_MAX_FAILURES: '1000' }
              : {},
    );
    nc = await connect({ servers: system.natsUrl });
    Object.assign(accounts, await accountsWithNumbers(system, PROVIDERS, 'calls'));
  });

  afterAll(async () => {
    await nc?.close();
    await system?.stop();
    await outside?.stop();
  });

  describe.each(['plivo', 'twilio'] as const)('%s dialect', (provider) => {
    const sim = () => new TelephonySimulator(system.baseUrl, provider, PROVIDERS[provider]);
    const api = () => accounts[provider];

    const created: string[] = [];
    const createSession = async (body: Json): Promise<Json> => {
      const res = await api().api('/Masking/Session/', { body });
      const json = (await res.json()) as Json;
      expect([res.status, json]).toEqual([201, expect.anything()]);
      created.push(String(json.session_uuid));
      return json;
    };
    // Sessions share the dialect's two numbers: each test starts with none live, as a real number
    // would between customers (several live sessions on one number are covered where it matters).
    afterEach(async () => {
      for (const id of created.splice(0)) await api().api(`/Masking/Session/${id}/`, { method: 'DELETE' });
    });
    /** The PIN Maskline generated, as the create response reveals it to the customer. */
    const pinOf = (s: Json, party: 'first' | 'second') => {
      const pin = (s.session as Json)[`${party}_party_pin`];
      expect(pin).toMatch(/^\d{4,15}$/);
      pinsSeen.add(String(pin));
      return String(pin);
    };
    const vnOf = (s: Json) => `+${String(s.virtual_number).replace(/^\+/, '')}`;
    const getSession = async (id: unknown) =>
      (await (await api().api(`/Masking/Session/${String(id)}/`)).json()) as { response: Json };
    const callbacks = (path: string, sessionId: unknown) =>
      outside.for(path).filter((r) => r.params.SessionUUID === sessionId);

    it('connects a party to the other party: their message, the virtual number as caller ID, the session’s ring timeout, time limit and recording', async () => {
      const [first, second] = [nextPhone(), nextPhone()];
      const s = await createSession({
        first_party: first,
        second_party: second,
        first_party_play_url: `${media()}/hello-rider.mp3`,
        ring_timeout: 25,
        call_time_limit: 900,
        record: true,
        record_file_format: 'wav',
        callback_url: `${outside.baseUrl}/cb/${provider}/party`,
        recording_callback_url: `${outside.baseUrl}/rec/${provider}/party`,
      });
      const report = await sim().call({
        from: first,
        to: vnOf(s),
        callee: { answers: true, talkSeconds: 42 },
      });
      expect(report.refused).toBeUndefined();
      expect(report.heard).toEqual([`play:${media()}/hello-rider.mp3`]);
      expect(report.dials).toEqual([
        {
          number: second,
          callerId: vnOf(s),
          timeout: 25,
          timeLimit: 900,
          record: true,
          answered: true,
        },
      ]);

      const expected = [
        'SessionFirstPartyAnswer',
        'SessionSecondPartyRing',
        'SessionSecondPartyAnswer',
        'SessionSecondPartyHangup',
        'SessionFirstPartyHangup',
        'SessionPartiesHangup',
      ];
      await expectEventually(
        () =>
          expect(
            callbacks(`/cb/${provider}/party`, s.session_uuid)
              .map((r) => r.params.EventName)
              .sort(),
          ).toEqual([...expected].sort()),
        { timeoutMs: 10_000 },
      );
      const received = callbacks(`/cb/${provider}/party`, s.session_uuid);
      const byName = new Map(received.map((r) => [r.params.EventName, r.params]));
      expect(byName.get('SessionFirstPartyAnswer')).toMatchObject({
        From: first.slice(1),
        To: second.slice(1),
        VirtualNumber: vnOf(s).slice(1),
      });
      expect(byName.get('SessionPartiesHangup')).toMatchObject({ Duration: '42' });
      // Sequence numbers follow the order events happened in, per session.
      const seq = (name: string) => Number(byName.get(name)?.SequenceNumber);
      expect(seq('SessionFirstPartyAnswer')).toBeLessThan(seq('SessionSecondPartyRing'));
      expect(seq('SessionSecondPartyRing')).toBeLessThan(seq('SessionSecondPartyAnswer'));
      expect(seq('SessionSecondPartyAnswer')).toBeLessThan(seq('SessionPartiesHangup'));

      await expectEventually(
        () =>
          expect(
            callbacks(`/rec/${provider}/party`, s.session_uuid)
              .map((r) => r.params.EventName)
              .sort(),
          ).toEqual(['SessionRecordingCompleted', 'SessionRecordingInitiated']),
        { timeoutMs: 10_000 },
      );
      const completed = callbacks(`/rec/${provider}/party`, s.session_uuid).find(
        (r) => r.params.EventName === 'SessionRecordingCompleted',
      );
      expect(completed?.params).toMatchObject({ RecordingDuration: '42', RecordingFormat: '.wav' });
      expect(completed?.params.RecordingURL).toMatch(/^https:\/\//);

      await expectEventually(async () => {
        const view = (await getSession(s.session_uuid)).response;
        expect(view.status).toBe('active');
        expect(view.total_call_count).toBe(2);
        const interactions = view.interaction as Json[];
        expect(interactions).toHaveLength(1);
        expect(interactions[0]).toMatchObject({ duration: 42 });
        expect(interactions[0].recording_resource_url).toBe(completed?.params.RecordingURL);
      });
      // Wherever Maskline keeps the recording's URL (a provider may serve the audio to whoever holds
      // it), it is sealed: the call's progress events on the stream, and the steps stored.
      const url = String(completed?.params.RecordingURL);
      const steps = (await eventsOn(nc, CallProgressed)).filter((e) => e.sessionId === s.session_uuid);
      expect(
        steps
          .filter((e) => e.sealedRecordingUrl)
          .map((e) => e.step)
          .sort(),
      ).toEqual(['recording-completed', 'recording-initiated']);
      expect(JSON.stringify(steps)).not.toContain(url);
      // One collection per UTC day of the steps (`call_events_<yyyymmdd>`), and the one kept before.
      const stored = await system.withStore('session-service', async (db) => {
        const names = (await db.listCollections().toArray())
          .map((c) => c.name)
          .filter((n) => n.startsWith('call_events'));
        const found = await Promise.all(
          names.map((n) => db.collection(n).find({ sessionId: s.session_uuid }).toArray()),
        );
        return found.flat();
      });
      expect(stored.map((e) => e.step)).toContain('recording-completed');
      expect(JSON.stringify(stored)).not.toContain(url);
    });

    it('shows the session in-progress while a call is up, and back to active after the hangup', async () => {
      const [first, second] = [nextPhone(), nextPhone()];
      const s = await createSession({ first_party: first, second_party: second });
      const callId = `live-${randomBytes(6).toString('hex')}`;
      const params: Record<string, string> =
        provider === 'plivo'
          ? { CallUUID: callId, From: first.slice(1), To: vnOf(s).slice(1), Direction: 'inbound' }
          : { CallSid: callId, From: first, To: vnOf(s), Direction: 'inbound' };
      const answered = await sim().post(`${system.baseUrl}/voice/${provider}/answer`, params);
      expect(answered.status).toBe(200);
      expect(answered.body).toContain('<Dial');
      await expectEventually(async () =>
        expect((await getSession(s.session_uuid)).response.status).toBe('in-progress'),
      );
      const hangup =
        provider === 'plivo'
          ? { ...params, CallStatus: 'completed', Duration: '7', BillDuration: '60' }
          : { ...params, CallStatus: 'completed', CallDuration: '7' };
      await sim().post(`${system.baseUrl}/voice/${provider}/hangup`, hangup);
      await expectEventually(async () => {
        const view = (await getSession(s.session_uuid)).response;
        expect(view.status).toBe('active');
        expect((view.interaction as Json[])[0]).toMatchObject({ duration: 7 });
      });
    });

    it('lets an unregistered phone in with the right PIN, connecting it to the counterpart of the PIN’s party', async () => {
      const [first, second, spare] = [nextPhone(), nextPhone(), nextPhone()];
      const s = await createSession({
        first_party: first,
        second_party: second,
        is_pin_authentication_required: true,
        generate_pin: true,
        generate_pin_length: 6,
        callback_url: `${outside.baseUrl}/cb/${provider}/pin`,
      });
      // The second party calls from a spare SIM and types their own PIN: they reach the first party.
      const report = await sim().call({ from: spare, to: vnOf(s), digits: [pinOf(s, 'second')] });
      expect(report.prompts).toBe(1);
      expect(report.heard).toEqual([SPOKEN.pinPrompt]);
      expect(report.transcript.join('\n')).not.toContain(pinOf(s, 'second'));
      expect(report.dials.map((d) => [d.number, d.callerId])).toEqual([[first, vnOf(s)]]);
      await expectEventually(() =>
        expect(
          callbacks(`/cb/${provider}/pin`, s.session_uuid).find(
            (r) => r.params.EventName === 'SessionPinAuthenticationStatus',
          )?.params,
        ).toMatchObject({ PinAuthenticationStatus: 'success', From: spare.slice(1) }),
      );
    });

    it('plays the session’s prompts, lets a wrong PIN be retried after the wait, then connects', async () => {
      const [first, second, spare] = [nextPhone(), nextPhone(), nextPhone()];
      const s = await createSession({
        first_party: first,
        second_party: second,
        is_pin_authentication_required: true,
        generate_pin: true,
        generate_pin_length: 6,
        pin_prompt_play: `${media()}/enter-pin.mp3`,
        incorrect_pin_play: `${media()}/wrong-pin.mp3`,
        pin_retry: 1,
        pin_retry_wait: 7,
      });
      const wrong = pinOf(s, 'first') === '000000' ? '000001' : '000000';
      const report = await sim().call({
        from: spare,
        to: vnOf(s),
        digits: [wrong, pinOf(s, 'first')],
      });
      expect(report.heard).toEqual([
        `play:${media()}/enter-pin.mp3`,
        `play:${media()}/wrong-pin.mp3`,
        `play:${media()}/enter-pin.mp3`,
      ]);
      expect(report.transcript).toContain('waited 7 s');
      expect(report.dials.map((d) => d.number)).toEqual([second]);
    });

    it('several PIN sessions on one number: a neutral prompt, and each PIN reaches its own session', async () => {
      // Three sessions on two numbers: at least two share one.
      const sessions: Json[] = [];
      for (let i = 0; i < 3; i++) {
        sessions.push(
          await createSession({
            first_party: nextPhone(),
            second_party: nextPhone(),
            is_pin_authentication_required: true,
            generate_pin: true,
            pin_prompt_play: `${media()}/prompt-${i}.mp3`,
          }),
        );
      }
      const shared = sessions.filter((s) => sessions.filter((o) => vnOf(o) === vnOf(s)).length > 1);
      expect(shared.length).toBeGreaterThanOrEqual(2);
      for (const s of shared) {
        const report = await sim().call({ from: nextPhone(), to: vnOf(s), digits: [pinOf(s, 'first')] });
        // Another customer's recording is never played: the prompts differ, so the default is spoken.
        expect(report.heard).toEqual([SPOKEN.pinPrompt]);
        expect(report.dials.map((d) => d.number)).toEqual([`+${String((s.session as Json).second_party)}`]);
      }
    });

    it('ends the call after the last wrong PIN, and treats no input as a wrong PIN', async () => {
      const [first, second, spare] = [nextPhone(), nextPhone(), nextPhone()];
      const s = await createSession({
        first_party: first,
        second_party: second,
        is_pin_authentication_required: true,
        generate_pin: true,
        pin_retry: 1,
      });
      const report = await sim().call({ from: spare, to: vnOf(s), digits: ['', '99999999'] });
      expect(report.prompts).toBe(2);
      expect(report.dials).toEqual([]);
      expect(report.heard.slice(-2)).toEqual([SPOKEN.incorrectPin, 'say:Goodbye.']);
      expect(report.transcript).toContain('Maskline hung up');
    });

    it('locks out a phone that keeps guessing, even with the right PIN', async () => {
      const [first, second, guesser] = [nextPhone(), nextPhone(), nextPhone()];
      const s = await createSession({
        first_party: first,
        second_party: second,
        is_pin_authentication_required: true,
        generate_pin: true,
        generate_pin_length: 8,
        pin_retry: 5,
      });
      let locked: CallReport | undefined;
      // Wrong guesses only: a fixed guess equal to the session's random PIN would be let in, rightly.
      const pins = new Set([pinOf(s, 'first'), pinOf(s, 'second')]);
      const wrong = Array.from({ length: 70 }, (_, i) => String(10_000_000 + i)).filter((d) => !pins.has(d));
      for (let call = 0; call < 10 && !locked; call++) {
        const report = await sim().call({
          from: guesser,
          to: vnOf(s),
          digits: wrong.slice(call * 6, call * 6 + 6),
        });
        if (report.heard.includes(SPOKEN.locked)) locked = report;
      }
      expect(locked).toBeDefined();
      const after = await sim().call({ from: guesser, to: vnOf(s), digits: [pinOf(s, 'first')] });
      expect(after.heard).toContain(SPOKEN.locked);
      expect(after.dials).toEqual([]);
    });

    it('with force_pin_authentication, asks a registered party for their own PIN first', async () => {
      const [first, second] = [nextPhone(), nextPhone()];
      const s = await createSession({
        first_party: first,
        second_party: second,
        is_pin_authentication_required: true,
        force_pin_authentication: true,
        generate_pin: true,
        first_party_play_url: `${media()}/hello.mp3`,
      });
      const withPin = await sim().call({ from: first, to: vnOf(s), digits: [pinOf(s, 'first')] });
      expect(withPin.prompts).toBe(1);
      expect(withPin.heard).toEqual([SPOKEN.pinPrompt, `play:${media()}/hello.mp3`]);
      expect(withPin.dials.map((d) => d.number)).toEqual([second]);
      const without = await sim().call({ from: first, to: vnOf(s), digits: [] });
      expect(without.dials).toEqual([]);
    });

    it('hangs up a call from one of Maskline’s numbers whose live session would dial the number called (a leg Maskline placed), even from a party, never dialling on; from one whose sessions would not, puts it through (another tenant’s sessions are not told)', async () => {
      const otherProvider = provider === 'plivo' ? 'twilio' : 'plivo';
      // Another tenant with one number its provider confirmed: every session it makes is on it.
      const other = await createAccount(system, `loop-owner-${provider}`);
      const theirs = nextPhone();
      expect((await addNumbers(other, otherProvider, PROVIDERS[otherProvider], [theirs])).status).toBe(202);
      const made: string[] = [];
      const otherSession = async (body: Json) => {
        const res = await other.api('/Masking/Session/', { body });
        expect(res.status).toBe(201);
        const json = (await res.json()) as Json;
        made.push(String(json.session_uuid));
        expect(vnOf(json)).toBe(theirs);
      };
      try {
        const [rider, driver] = [nextPhone(), nextPhone()];
        await otherSession({ first_party: rider, second_party: driver });
        // Routed there: the router knows that session (its index is what the guard reads).
        const there = await new TelephonySimulator(
          system.baseUrl,
          otherProvider,
          PROVIDERS[otherProvider],
        ).call({ from: rider, to: theirs });
        expect(there.dials.map((d) => d.number)).toEqual([driver]);
        const phone = nextPhone();
        // Taken as a party (refusing another account's number would tell which numbers Maskline serves).
        const s = await createSession({ first_party: theirs, second_party: phone });
        // No session on it would dial this number: a call from it is put through like a party's, and
        // the tenant signing it learns nothing of the other tenant's session (until stop 72, hung up).
        const notPlaced = await sim().call({ from: theirs, to: vnOf(s) });
        expect(notPlaced.dials.map((d) => d.number)).toEqual([phone]);
        // A session on it naming this number: a call from it is a leg Maskline placed.
        await otherSession({ first_party: vnOf(s), second_party: nextPhone() });
        await expectEventually(async () => {
          const looped = await sim().call({ from: theirs, to: vnOf(s) });
          expect([looped.heard, looped.dials]).toEqual([[], []]);
        });
        // The other party, a phone, is put through to it as ever.
        const report = await sim().call({ from: phone, to: vnOf(s) });
        expect(report.dials.map((d) => d.number)).toEqual([theirs]);
      } finally {
        for (const id of made) await other.api(`/Masking/Session/${id}/`, { method: 'DELETE' });
      }
    });

    it('puts a person’s phone through when another tenant added it as its “number”: only a number its provider account was confirmed to hold is taken for Maskline’s own', async () => {
      const [person, confirmed] = [nextPhone(), nextPhone()];
      // No provider account holds the person's phone (the sandbox number-pool asks says so).
      system.providers.disown(person);
      const squatter = await createAccount(system, `squatter-calls-${provider}`);
      const withCredentials = await addNumbers(squatter, provider, PROVIDERS[provider], [person]);
      expect(withCredentials.status).toBe(422);
      expect(((await withCredentials.json()) as { error: string }).error).toMatch(
        new RegExp(`^numbers: \\${person} is not held by ${provider} account`),
      );
      // Without credentials nobody can be asked: it is added, unconfirmed, and a session kept on it,
      // naming the number of this account's session the person is a party of (as a session on one of
      // Maskline's numbers would, to dial it).
      const [a, b] = [nextPhone(), nextPhone()];
      const s = await createSession({ first_party: person, second_party: b });
      expect((await squatter.api('/Number/', { body: { numbers: person, provider } })).status).toBe(202);
      const squatted = await squatter.api('/Masking/Session/', {
        body: { first_party: vnOf(s), second_party: nextPhone() },
      });
      expect(squatted.status).toBe(201);
      const squattedSession = (await squatted.json()) as Json;
      expect(vnOf(squattedSession)).toBe(person);
      // A number its provider account was confirmed to hold, with a session of its own naming this
      // account's number, made after: once a call from it is hung up, the router knows both sessions
      // (it applies them in order).
      const owner = await createAccount(system, `owner-calls-${provider}`);
      expect((await addNumbers(owner, provider, PROVIDERS[provider], [confirmed])).status).toBe(202);
      const fromConfirmed = await createSession({ first_party: confirmed, second_party: a });
      const held = await owner.api('/Masking/Session/', {
        body: { first_party: vnOf(fromConfirmed), second_party: nextPhone() },
      });
      expect(held.status).toBe(201);
      const heldSession = (await held.json()) as Json;
      expect(vnOf(heldSession)).toBe(confirmed);
      try {
        await expectEventually(async () => {
          const looped = await sim().call({ from: confirmed, to: vnOf(fromConfirmed) });
          expect([looped.heard, looped.dials]).toEqual([[], []]);
        });
        // The person calls this account's session, as a party: put through, never hung up.
        const report = await sim().call({ from: person, to: vnOf(s) });
        expect(report.dials.map((d) => d.number)).toEqual([b]);
      } finally {
        await squatter.api(`/Masking/Session/${String(squattedSession.session_uuid)}/`, { method: 'DELETE' });
        await owner.api(`/Masking/Session/${String(heldSession.session_uuid)}/`, { method: 'DELETE' });
      }
    });

    it('ends the sessions a tenant kept on a number once the holder its provider confirms takes it: the tenant learns nothing of the holder’s parties from them, and blocks none', async () => {
      const [number, waiting] = [nextPhone(), nextPhone()];
      const squatter = await createAccount(system, `squatter-takeover-${provider}`);
      // Added without credentials (nobody asked), and a session on it waiting for its second party.
      expect((await squatter.api('/Number/', { body: { numbers: number, provider } })).status).toBe(202);
      const opened = await squatter.api('/Masking/Session/', {
        body: { first_party: waiting, create_session_with_single_party: true },
      });
      expect(opened.status).toBe(201);
      const open = (await opened.json()) as Json;
      expect(vnOf(open)).toBe(number);
      const openPath = `/Masking/Session/${String(open.session_uuid)}/`;

      // The account its provider confirms holds the number adds it: taken, and the squatter's session ends.
      const holder = await createAccount(system, `holder-takeover-${provider}`);
      expect((await addNumbers(holder, provider, PROVIDERS[provider], [number])).status).toBe(202);
      await expectEventually(async () => {
        const got = (await (await squatter.api(openPath)).json()) as { response: Json };
        expect(got.response.status).toBe('expired');
      });

      // The holder's sessions on it: one with a party the squatter guesses, one with the party the
      // squatter's session held there (nothing of the squatter's blocks it).
      const guessed = nextPhone();
      const mine: Json[] = [];
      for (const first of [guessed, waiting]) {
        const made = await holder.api('/Masking/Session/', {
          body: { first_party: first, second_party: nextPhone() },
        });
        expect(made.status).toBe(201);
        mine.push((await made.json()) as Json);
        expect(vnOf(mine.at(-1)!)).toBe(number);
      }
      try {
        // Naming the holder's party on its old session, or a phone nobody holds: the same answer.
        const probe = async (party: string) => {
          const res = await squatter.api(openPath, { body: { second_party: party } });
          const body = (await res.json()) as Json;
          return { status: res.status, error: body.error };
        };
        const [named, unknown] = [await probe(guessed), await probe(nextPhone())];
        expect(named).toEqual(unknown);
        expect(named.status).toBeGreaterThanOrEqual(400);
        expect(named.status).toBeLessThan(500);
      } finally {
        for (const s of mine) {
          await holder.api(`/Masking/Session/${String(s.session_uuid)}/`, { method: 'DELETE' });
        }
      }
    });

    it('plays unknown_caller_play to a stranger when the session has no PIN, and hangs up', async () => {
      const [first, second, stranger] = [nextPhone(), nextPhone(), nextPhone()];
      const s = await createSession({
        first_party: first,
        second_party: second,
        unknown_caller_play: `${media()}/use-your-phone.mp3`,
      });
      const report = await sim().call({ from: stranger, to: vnOf(s) });
      expect(report.heard).toEqual([`play:${media()}/use-your-phone.mp3`]);
      expect(report.dials).toEqual([]);
    });

    it('single-party session: anyone reaches the registered party, who is then routed back to them', async () => {
      const [customer, agent] = [nextPhone(), nextPhone()];
      const s = await createSession({ first_party: customer, create_session_with_single_party: true });
      const inbound = await sim().call({ from: agent, to: vnOf(s) });
      expect(inbound.dials.map((d) => [d.number, d.callerId])).toEqual([[customer, vnOf(s)]]);
      const back = await sim().call({ from: customer, to: vnOf(s) });
      expect(back.dials.map((d) => d.number)).toEqual([agent]);
    });

    it('stops forwarding within about a second once a session is expired', async () => {
      const [first, second] = [nextPhone(), nextPhone()];
      const s = await createSession({ first_party: first, second_party: second });
      expect((await sim().call({ from: first, to: vnOf(s) })).dials).toHaveLength(1);
      const deleted = await api().api(`/Masking/Session/${String(s.session_uuid)}/`, { method: 'DELETE' });
      expect(deleted.status).toBe(200);
      await expectEventually(
        async () => {
          const report = await sim().call({ from: first, to: vnOf(s) });
          expect(report.dials).toEqual([]);
        },
        { timeoutMs: 2000 },
      );
    });

    it('each call step carries the session as the router held it: the dispatcher learns where its callbacks go without asking', async () => {
      const [first, second] = [nextPhone(), nextPhone()];
      const url = `${outside.baseUrl}/cb/${provider}/steps`;
      const s = await createSession({ first_party: first, second_party: second, callback_url: url });
      await sim().call({ from: first, to: vnOf(s), callee: { answers: true, talkSeconds: 2 } });
      await expectEventually(() =>
        expect(callbacks(`/cb/${provider}/steps`, s.session_uuid).map((r) => r.params.EventName)).toContain(
          'SessionPartiesHangup',
        ),
      );
      const steps = (await eventsOn(nc, CallProgressed)).filter((e) => e.sessionId === s.session_uuid);
      expect(steps.length).toBeGreaterThan(1);
      for (const step of steps) {
        expect(step.routing).toMatchObject({
          sessionId: s.session_uuid,
          virtualNumber: vnOf(s),
          settings: expect.objectContaining({ callbackUrl: url }),
        });
      }
    });

    it('refuses unsigned or wrongly signed webhooks with 403 and routes nothing', async () => {
      const [first, second] = [nextPhone(), nextPhone()];
      const s = await createSession({
        first_party: first,
        second_party: second,
        callback_url: `${outside.baseUrl}/cb/${provider}/forged`,
      });
      const unsigned = await sim().call({ from: first, to: vnOf(s), signWith: null });
      expect(unsigned.refused).toBe(403);
      const forged = await sim().call({ from: first, to: vnOf(s), signWith: 'not-the-token-1234' });
      expect(forged.refused).toBe(403);
      expect(forged.dials).toEqual([]);
      const otherProvider = new TelephonySimulator(
        system.baseUrl,
        provider === 'plivo' ? 'twilio' : 'plivo',
        PROVIDERS[provider],
      );
      expect((await otherProvider.call({ from: first, to: vnOf(s) })).refused).toBe(403);
      // A marker after the forgeries: a real call from the other party, reported to the same URL.
      await sim().call({ from: second, to: vnOf(s), callee: { answers: true, talkSeconds: 3 } });
      await expectEventually(() =>
        expect(callbacks(`/cb/${provider}/forged`, s.session_uuid).map((r) => r.params.EventName)).toContain(
          'SessionPartiesHangup',
        ),
      );
      // Whatever a forgery set off would be on the stream before the marker, and reported with it.
      const steps = (await eventsOn(nc, CallProgressed)).filter((e) => e.sessionId === s.session_uuid);
      expect(steps.length).toBeGreaterThan(0);
      expect(steps.filter((e) => e.from === first)).toEqual([]);
      expect(
        callbacks(`/cb/${provider}/forged`, s.session_uuid).filter((r) => r.params.From === first.slice(1)),
      ).toEqual([]);
    });

    it('initiate_call_to_first_party: calls the first party through the provider’s REST API and bridges to the second', async () => {
      const [first, second] = [nextPhone(), nextPhone()];
      const s = await createSession({
        first_party: first,
        second_party: second,
        initiate_call_to_first_party: true,
        ring_timeout: 20,
      });
      const path =
        provider === 'plivo'
          ? `/v1/Account/${PROVIDERS.plivo.accountId}/Call/`
          : `/2010-04-01/Accounts/${PROVIDERS.twilio.accountId}/Calls.json`;
      const placed = await expectEventually(() => {
        const found = outside
          .for(path)
          .find((r) => (r.params.to ?? r.params.To ?? '').replace(/^\+/, '') === first.slice(1));
        expect(found).toBeDefined();
        return found as NonNullable<typeof found>;
      });
      const auth = Buffer.from(`${PROVIDERS[provider].accountId}:${PROVIDERS[provider].authToken}`).toString(
        'base64',
      );
      expect(placed.headers.authorization).toBe(`Basic ${auth}`);
      const answerUrl = provider === 'plivo' ? placed.params.answer_url : placed.params.Url;
      const hangupUrl = provider === 'plivo' ? placed.params.hangup_url : placed.params.StatusCallback;
      const from = provider === 'plivo' ? `+${placed.params.from}` : placed.params.From;
      expect(from).toBe(vnOf(s));
      expect(answerUrl).toContain(`${system.baseUrl}/voice/${provider}/outbound-answer?`);
      // The first party picks up: the provider asks Maskline what to do on that call.
      const report = await sim().call({ from: vnOf(s), to: first, answerUrl, hangupUrl });
      expect(report.dials.map((d) => [d.number, d.callerId, d.timeout])).toEqual([[second, vnOf(s), 20]]);
      // The event is delivered at least once; the call is placed once: once every event so far is
      // acknowledged, no redelivery can place it again.
      await expectEventually(async () =>
        expect(await consumerCaughtUp(nc, 'call-router-initiate-calls')).toBe(true),
      );
      expect(
        outside.for(path).filter((r) => (r.params.to ?? r.params.To ?? '').endsWith(first.slice(1))),
      ).toHaveLength(1);
    });
  });

  describe('numbers without a live session', () => {
    let quiet: TestAccount;
    const number = '+14155550401';

    beforeAll(async () => {
      quiet = await createAccount(system, 'calls-quiet');
      const res = await quiet.api('/Number/', {
        body: {
          numbers: number,
          provider: 'plivo',
          provider_auth_id: PROVIDERS.plivo.accountId,
          provider_auth_token: PROVIDERS.plivo.authToken,
        },
      });
      expect(res.status).toBe(202);
    });

    const sim = () => new TelephonySimulator(system.baseUrl, 'plivo', PROVIDERS.plivo);

    it('says the number is not in service and hangs up', async () => {
      const report = await sim().call({ from: nextPhone(), to: number });
      expect(report.heard).toEqual([SPOKEN.notInService]);
      expect(report.transcript).toContain('Maskline hung up');
    });

    it('hands the call to the number’s fallback_answer_url when one is set', async () => {
      const set = await quiet.api(`/Number/${number.slice(1)}/`, {
        body: { fallback_answer_url: `${outside.baseUrl}/app/answer` },
      });
      expect(set.status).toBe(202);
      const report = await sim().call({ from: nextPhone(), to: number });
      expect(report.heard).toEqual(['say:customer app']);
      const bad = await quiet.api(`/Number/${number.slice(1)}/`, {
        body: { fallback_answer_url: 'ftp://x' },
      });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(await bad.json())).toContain('fallback_answer_url must be an http or https URL');
    });
  });

  it('writes no PIN and no provider token to any log line (every service logged at debug level)', () => {
    // PINs of 6 digits or more, as whole numbers: shorter ones occur by chance in ids and timings.
    const pins = [...pinsSeen].filter((p) => p.length >= 6);
    expect(pins.length).toBeGreaterThan(5);
    const services = [
      'gateway',
      'session-service',
      'number-pool',
      'pin-auth',
      'call-router',
      'callback-dispatcher',
    ] as const;
    const lines = services.flatMap((service) =>
      system.logs(service).map(({ pid: _pid, time: _time, ...rest }) => JSON.stringify(rest)),
    );
    expect(lines.length).toBeGreaterThan(100);
    for (const pin of pins) {
      // Ids (UUIDs, long hex) are taken out first: a PIN's digits inside one are no leak. Any other
      // run of exactly its digits is, however it is written around (JSON, URL-encoded, a form).
      const leak = lines
        .map((line) => line.replace(/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}|[0-9a-f]{16,}/gi, '#'))
        .find((line) => new RegExp(`(?<!\\d)${pin}(?!\\d)`).test(line));
      expect(leak).toBeUndefined();
    }
    const raw = system.rawLogs();
    expect(raw).not.toContain(PROVIDERS.plivo.authToken);
    expect(raw).not.toContain(PROVIDERS.twilio.authToken);
  });

  describe('when routing is down', () => {
    it('still answers the provider with valid XML: a short message, then hang up', async () => {
      const [first, second] = [nextPhone(), nextPhone()];
      const res = await accounts.twilio.api('/Masking/Session/', {
        body: { first_party: first, second_party: second },
      });
      const s = (await res.json()) as Json;
      await system.stopService('call-router');
      try {
        for (const provider of ['plivo', 'twilio'] as const) {
          const to =
            provider === 'twilio'
              ? `+${String(s.virtual_number).replace(/^\+/, '')}`
              : PROVIDERS.plivo.numbers[0];
          const report = await new TelephonySimulator(system.baseUrl, provider, PROVIDERS[provider]).call({
            from: first,
            to,
          });
          expect(report.refused).toBeUndefined();
          expect(report.heard).toEqual([SPOKEN.unavailable]);
          expect(report.requests[0].status).toBe(200);
        }
      } finally {
        system.startService('call-router');
      }
    });
  });
});
