import { TelephonySimulator, simulatedProvider } from '@maskline/telephony-simulator';
import { expectEventually } from '@maskline/testing';
import { startProviderSandbox, type ProviderSandbox } from '../../deploy/local/provider-sandbox.cjs';
import { createAccount, createSubaccount, type TestAccount } from './support/accounts';
import { E2eSystem } from './support/e2e-system';
import { accountsWithNumbers, providerAccounts } from './support/provider-accounts';
import { sendWebhook, signWebhook } from './support/signed-webhook';
import { rejection, twilioClient, type RestError } from './support/twilio-sdk';
import { CallbackReceiver } from './support/callback-receiver';
import { SessionUpdated } from '@maskline/contracts';
import { consumerCaughtUp, eventsOn } from './support/stream-events';
import { verifyTwilioSignature } from '@maskline/webhook-signatures';
import { connect, type NatsConnection } from 'nats';

type Json = Record<string, unknown>;

/** The team's Twilio account and the numbers it brings (area codes 415 and 628). */
const PROVIDERS = providerAccounts({
  plivo: ['+14155550690'],
  twilio: [
    '+14155550601',
    '+14155550602',
    '+14155550603',
    '+16285550604',
    '+16285550605',
    '+14155550606',
    '+14155550607',
    '+14155550608',
    '+14155550609',
    '+14155550610',
    '+14155550611',
    '+14155550612',
    '+14155550613',
  ],
});
const [N1, N2, N3, N628a, N628b, N6, N7, N8, N9, N10, N11, N12, N13] = PROVIDERS.twilio.numbers;
let phone = 0;
const nextPhone = (area = '415') => `+1${area}7${String(100000 + phone++).slice(-6)}`;

describe('Twilio Proxy Sessions and Participants on Maskline’s engine, driven by Twilio’s SDK', () => {
  let system: E2eSystem;
  let providers: ProviderSandbox;
  let team: TestAccount;
  let client: ReturnType<typeof twilioClient>;
  /** Plays the customer's intercept endpoint. */
  let outside: CallbackReceiver;
  let nc: NatsConnection;

  const sim = () => new TelephonySimulator(system.baseUrl, 'twilio', PROVIDERS.twilio);
  const text = async (from: string, to: string, body: string) => {
    const dialect = simulatedProvider('twilio');
    const params = dialect.messageParams(dialect.newMessageId(), from, to, body, [], PROVIDERS.twilio);
    const url = `${system.baseUrl}/messaging/twilio/inbound`;
    const res = await sendWebhook(signWebhook('twilio', url, params, PROVIDERS.twilio.authToken));
    expect(res.status).toBe(200);
  };
  const sent = (text: string) => providers.messages.filter((m) => m.text === text);

  beforeAll(async () => {
    providers = await startProviderSandbox();
    outside = await CallbackReceiver.start();
    system = await E2eSystem.start(
      {},
      (service): Record<string, string> =>
        service === 'session-service'
          ? // A small bound on Sessions without participants, so a test can reach it.
            { PROXY_EMPTY_SESSIONS_MAX: '4' }
          : service === 'call-router'
            ? // An intercept that has not answered in half a second is treated as no answer.
              {
                PLIVO_API_BASE_URL: providers.url,
                TWILIO_API_BASE_URL: providers.url,
                INTERCEPT_TIMEOUT_MS: '500',
              }
            : {},
    );
    nc = await connect({ servers: system.natsUrl });
    team = (await accountsWithNumbers(system, PROVIDERS, 'proxy-sessions')).twilio;
    const accountSid = String(((await (await team.api('/')).json()) as Json).twilio_account_sid);
    client = twilioClient(system.baseUrl, accountSid, team.authToken);
  });

  afterAll(async () => {
    await nc?.close();
    await system?.stop();
    await providers?.close();
    await outside?.stop();
  });

  it('creates a Session with two participants on the Service’s number; a call and texts both ways become Interactions and slide its TTL; close ends it; delete removes it', async () => {
    const service = await client.proxy.v1.services.create({ uniqueName: 'rides', defaultTtl: 3600 });
    await client.proxy.v1.services(service.sid).phoneNumbers.create({ phoneNumber: N1 });
    const [rider, driver] = [nextPhone(), nextPhone()];
    const sessions = client.proxy.v1.services(service.sid).sessions;

    const created = await sessions.create({
      uniqueName: 'trip-1',
      ttl: 600,
      participants: [{ Identifier: rider, FriendlyName: 'rider' }, { Identifier: driver }],
    });
    expect(created.sid).toMatch(/^KC[0-9a-f]{32}$/);
    expect(created).toMatchObject({
      serviceSid: service.sid,
      uniqueName: 'trip-1',
      status: 'open',
      ttl: 600,
      mode: 'voice-and-message',
      closedReason: null,
    });
    const firstExpiry = created.dateExpiry.getTime();
    expect(Math.abs(firstExpiry - (Date.now() + 600_000))).toBeLessThan(60_000);
    expect((await sessions('trip-1').fetch()).sid).toBe(created.sid);

    const participants = await sessions(created.sid).participants.list();
    expect(participants.map((p) => [p.identifier, p.proxyIdentifier, p.friendlyName])).toEqual([
      [rider, N1, 'rider'],
      [driver, N1, null],
    ]);
    expect(participants[0].sid).toMatch(/^KP[0-9a-f]{32}$/);
    expect(participants[0].proxyIdentifierSid).toMatch(/^PN[0-9a-f]{32}$/);
    expect((await sessions(created.sid).participants(participants[1].sid).fetch()).identifier).toBe(driver);

    // The rider calls the proxy number: the driver's phone rings, showing the proxy number.
    const call = await sim().call({ from: rider, to: N1, callee: { answers: true, talkSeconds: 30 } });
    expect(call.dials).toEqual([expect.objectContaining({ number: driver, callerId: N1, answered: true })]);
    // Texts both ways, from the proxy number.
    await text(rider, N1, 'at gate B');
    await text(driver, N1, 'on my way');
    await expectEventually(() => {
      expect(sent('at gate B')).toEqual([expect.objectContaining({ from: N1, to: driver })]);
      expect(sent('on my way')).toEqual([expect.objectContaining({ from: N1, to: rider })]);
    });

    await expectEventually(async () => {
      const interactions = await sessions(created.sid).interactions.list();
      expect(interactions.map((i) => i.type).sort()).toEqual(['message', 'message', 'voice']);
      // The rider called the driver.
      expect(interactions.find((i) => i.type === 'voice')).toMatchObject({
        inboundParticipantSid: participants[0].sid,
        outboundParticipantSid: participants[1].sid,
      });
      const fromRider = interactions.find(
        (i) => i.type === 'message' && i.inboundParticipantSid === participants[0].sid,
      );
      expect(fromRider).toMatchObject({
        outboundParticipantSid: participants[1].sid,
        inboundResourceStatus: 'delivered',
      });
      // A message's text is never kept: its data says how many segments it was.
      expect(JSON.parse(String(fromRider?.data))).toEqual({ segments: 1 });
      expect(interactions[0].sid).toMatch(/^KI[0-9a-f]{32}$/);
      expect((await sessions(created.sid).interactions(interactions[0].sid).fetch()).sid).toBe(
        interactions[0].sid,
      );
    });
    await expectEventually(async () => {
      const now = await sessions(created.sid).fetch();
      expect(now.status).toBe('in-progress');
      // The TTL counts from the last interaction now (Twilio's dates are to the second).
      const last = now.dateLastInteraction.getTime();
      expect(last).toBeGreaterThanOrEqual(created.dateStarted.getTime());
      expect(now.dateExpiry.getTime() - last).toBeGreaterThanOrEqual(599_000);
      expect(now.dateExpiry.getTime() - last).toBeLessThanOrEqual(601_000);
      expect(now.dateExpiry.getTime()).toBeGreaterThanOrEqual(firstExpiry);
    });

    // A message through the API to the driver, from the proxy number: sent once, then an Interaction.
    const driverSid = participants[1].sid;
    const sentByApi = await sessions(created.sid)
      .participants(driverSid)
      .messageInteractions.create({ body: 'your rider is at gate B' });
    expect(sentByApi.sid).toMatch(/^KI[0-9a-f]{32}$/);
    expect(sentByApi).toMatchObject({
      participantSid: driverSid,
      outboundResourceStatus: 'queued',
      type: 'message',
    });
    expect(JSON.stringify(sentByApi.toJSON())).not.toContain('gate B');
    await expectEventually(async () => {
      expect(sent('your rider is at gate B')).toEqual([expect.objectContaining({ from: N1, to: driver })]);
      const listed = await sessions(created.sid).participants(driverSid).messageInteractions.list();
      expect(listed.map((m) => [m.sid, m.outboundResourceStatus, m.inboundParticipantSid])).toEqual([
        [sentByApi.sid, 'delivered', null],
      ]);
    });
    expect(await sessions(created.sid).participants(participants[0].sid).messageInteractions.list()).toEqual(
      [],
    );
    // A participant the Session does not have: not found, not an empty page.
    expect(
      await rejection(
        sessions(created.sid)
          .participants(`KP${'0'.repeat(32)}`)
          .messageInteractions.list(),
      ),
    ).toMatchObject({ status: 404, code: 20404 });
    const voiceOnly = await sessions.create({
      mode: 'voice-only',
      participants: [{ Identifier: nextPhone() }],
    });
    const onlyVoice = (await sessions(voiceOnly.sid).participants.list())[0];
    const refused = await rejection(
      sessions(voiceOnly.sid).participants(onlyVoice.sid).messageInteractions.create({ body: 'x' }),
    );
    expect(refused).toMatchObject({ status: 400, code: 20001 });
    expect(refused.message).toContain('voice-only');
    await sessions(voiceOnly.sid).remove();
    // A Body given twice beside a MediaUrl: refused, not dropped (the media alone would go out).
    const twice = await fetch(
      `${system.baseUrl}/v1/Services/${service.sid}/Sessions/${created.sid}/Participants/${driverSid}/MessageInteractions`,
      {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${service.accountSid}:${team.authToken}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'Body=one&Body=two&MediaUrl=https%3A%2F%2Fmedia.maskline.test%2Fa.jpg',
      },
    );
    expect([twice.status, ((await twice.json()) as Json).code]).toEqual([400, 20001]);
    expect(sent('one')).toEqual([]);

    // Retried with one Idempotency-Key: the same message (its SID), sent once, before and after it
    // was relayed; another key is another message; a key too long is a 400 naming the header.
    const postKeyed = (body: string, key: string) =>
      fetch(
        `${system.baseUrl}/v1/Services/${service.sid}/Sessions/${created.sid}/Participants/${driverSid}/MessageInteractions`,
        {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`${service.accountSid}:${team.authToken}`).toString('base64')}`,
            'content-type': 'application/x-www-form-urlencoded',
            'idempotency-key': key,
          },
          body,
        },
      );
    const sidOf = async (res: Response) => {
      expect(res.status).toBe(201);
      return ((await res.json()) as Json).sid as string;
    };
    const key = `retry-${Date.now()}`;
    const keyed = await sidOf(await postKeyed('Body=sent+once', key));
    expect(await sidOf(await postKeyed('Body=sent+once', key))).toBe(keyed);
    const unkeyed = await sidOf(await postKeyed('Body=sent+once', `${key}-other`));
    expect(unkeyed).not.toBe(keyed);
    await expectEventually(async () => expect(sent('sent once')).toHaveLength(2));
    expect(await sidOf(await postKeyed('Body=sent+once', key))).toBe(keyed);
    await expectEventually(async () =>
      expect(await consumerCaughtUp(nc, 'call-router-message-relay')).toBe(true),
    );
    expect(sent('sent once')).toHaveLength(2);
    const tooLong = await postKeyed('Body=x', 'k'.repeat(256));
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as Json).message).toContain('Idempotency-Key');
    expect(sent('x')).toEqual([]);
    // The key reused for another message (another Body, or other media): 422 naming the header, nothing
    // sent, never a 201 for a message that does not go. The first request's retry is still itself, and
    // the key is the participant's own: the rider's message with it is another message.
    const reused = await postKeyed('Body=something+else', key);
    expect(reused.status).toBe(422);
    const reusedBody = (await reused.json()) as Json;
    expect(reusedBody).toMatchObject({ status: 422, code: 20001 });
    expect(reusedBody.message).toContain('Idempotency-Key');
    expect(reusedBody.message).not.toContain('something else');
    const withMedia = await postKeyed(
      'Body=sent+once&MediaUrl=https%3A%2F%2Fmedia.maskline.test%2Fb.jpg',
      key,
    );
    expect(withMedia.status).toBe(422);
    expect(await sidOf(await postKeyed('Body=sent+once', key))).toBe(keyed);
    // A third reuse spends the key (each 422 tells whether a guess of the text was right): every
    // request with it is refused from then on, the first's retry too, and says to use a new key.
    expect((await postKeyed('Body=a+third+guess', key)).status).toBe(422);
    const spent = await postKeyed('Body=sent+once', key);
    expect(spent.status).toBe(422);
    expect(((await spent.json()) as Json).message).toContain('use a new key');
    const toRider = await fetch(
      `${system.baseUrl}/v1/Services/${service.sid}/Sessions/${created.sid}/Participants/${participants[0].sid}/MessageInteractions`,
      {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${service.accountSid}:${team.authToken}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          'idempotency-key': key,
        },
        body: 'Body=something+else',
      },
    );
    expect(toRider.status).toBe(201);
    await expectEventually(async () =>
      expect(sent('something else')).toEqual([expect.objectContaining({ from: N1, to: rider })]),
    );
    await expectEventually(async () =>
      expect(await consumerCaughtUp(nc, 'call-router-message-relay')).toBe(true),
    );
    expect(sent('sent once')).toHaveLength(2);

    // Closed: the number no longer connects them, and a closed session cannot be changed.
    const closed = await sessions(created.sid).update({ status: 'closed' });
    expect(closed).toMatchObject({ status: 'closed', closedReason: 'api' });
    expect(closed.dateEnded).toBeInstanceOf(Date);
    expect((await sim().call({ from: rider, to: N1 })).dials).toEqual([]);
    expect(await rejection(sessions(created.sid).update({ ttl: 60 }))).toMatchObject({
      code: 80607,
      status: 400,
    });
    expect(
      await rejection(sessions(created.sid).participants.create({ identifier: nextPhone() })),
    ).toMatchObject({ code: 80607 });

    // Deleted: gone from the Service, its UniqueName free again.
    expect(await sessions(created.sid).remove()).toBe(true);
    expect(await rejection(sessions(created.sid).fetch())).toMatchObject({ status: 404, code: 20404 });
    expect((await sessions.list()).map((s) => s.sid)).not.toContain(created.sid);
    const again = await sessions.create({ uniqueName: 'trip-1' });
    expect(again.status).toBe('open');
    await sessions(again.sid).remove();

    // Deleting the Service ends its open Sessions: their number connects nobody any more.
    const open = await sessions.create({ participants: [{ Identifier: rider }, { Identifier: driver }] });
    expect((await sim().call({ from: rider, to: N1 })).dials).toHaveLength(1);
    expect(await client.proxy.v1.services(service.sid).remove()).toBe(true);
    expect((await sim().call({ from: rider, to: N1 })).dials).toEqual([]);
    expect(await rejection(sessions(open.sid).fetch())).toMatchObject({ status: 404 });
  });

  it('adds participants one at a time; refuses a third, a repeated one, a taken name, a bad request, in Twilio’s codes', async () => {
    const service = await client.proxy.v1.services.create({ uniqueName: 'errors' });
    await client.proxy.v1.services(service.sid).phoneNumbers.create({ phoneNumber: N2 });
    const sessions = client.proxy.v1.services(service.sid).sessions;
    const s = await sessions.create({ uniqueName: 'job-7', mode: 'voice-only' });
    expect(s).toMatchObject({ status: 'open', mode: 'voice-only' });
    expect(await sessions(s.sid).participants.list()).toEqual([]);

    const [a, b] = [nextPhone(), nextPhone()];
    expect((await sessions(s.sid).participants.create({ identifier: a })).proxyIdentifier).toBe(N2);
    const repeated = await rejection(sessions(s.sid).participants.create({ identifier: a }));
    expect(repeated).toMatchObject({ code: 80103, status: 400 });
    expect((await sessions(s.sid).participants.create({ identifier: b })).proxyIdentifier).toBe(N2);
    const third = await rejection(sessions(s.sid).participants.create({ identifier: nextPhone() }));
    expect(third).toMatchObject({ code: 80609, status: 400 });
    expect(third.message).toContain('at most 2 participants');

    expect(await rejection(sessions.create({ uniqueName: 'job-7' }))).toMatchObject({
      code: 80603,
      status: 409,
    });
    const past = await rejection(sessions.create({ dateExpiry: new Date(Date.now() - 60_000) }));
    expect(past).toMatchObject({ code: 20001, status: 400 });
    expect(past.message).toContain('DateExpiry');
    const badMode = await rejection(sessions.create({ mode: 'video' as never }));
    expect(badMode).toMatchObject({ code: 20001 });
    expect(badMode.message).toContain('Mode');
    // A Session closed from its start would relay nothing: refused, not made open.
    const closedAtCreate = await rejection(sessions.create({ uniqueName: 'job-closed', status: 'closed' }));
    expect(closedAtCreate).toMatchObject({ code: 20001, status: 400 });
    expect(closedAtCreate.message).toMatch(/^Status at create must be open or in-progress/);
    expect(await rejection(sessions('job-closed').fetch())).toMatchObject({ status: 404 });
    // A reference longer than any SID or UniqueName names nothing: 404, whichever part of the path.
    const long = 'k'.repeat(300);
    for (const far of [
      () => client.proxy.v1.services(long).sessions.list(),
      () => sessions(long).fetch(),
      () => sessions(s.sid).participants(long).fetch(),
      () => sessions(s.sid).interactions(long).fetch(),
    ]) {
      expect(await rejection(far())).toMatchObject({ status: 404, code: 20404 });
    }
    const badIdentifier = await rejection(sessions(s.sid).participants.create({ identifier: 'rider-7' }));
    expect(badIdentifier).toMatchObject({ code: 20001 });
    expect(badIdentifier.message).toContain('Identifier');
    // One of the account's own numbers, first (its allocation) or second (joining): calls and texts
    // to it would come back in through Maskline.
    const own = await sessions.create({ uniqueName: 'job-own', mode: 'voice-only' });
    for (const number of [N2, N1]) {
      const ownNumber = await rejection(sessions(own.sid).participants.create({ identifier: number }));
      expect(ownNumber).toMatchObject({ code: 20001, status: 400 });
      expect(ownNumber.message).toMatch(/^Identifier must not be one of this account's virtual numbers/);
    }
    await sessions(own.sid).participants.create({ identifier: nextPhone() });
    const ownSecond = await rejection(sessions(own.sid).participants.create({ identifier: N1 }));
    expect(ownSecond).toMatchObject({ code: 20001, status: 400 });
    expect(ownSecond.message).toMatch(/^Identifier must not be one of this account's virtual numbers/);
    expect(await sessions(own.sid).participants.list()).toHaveLength(1);
    await sessions(own.sid).remove();
    // Three participants at create, or one twice: refused before anything is made.
    const tooMany = await rejection(
      sessions.create({
        participants: [{ Identifier: nextPhone() }, { Identifier: nextPhone() }, { Identifier: nextPhone() }],
      }),
    );
    expect(tooMany).toMatchObject({ code: 20001 });
    const twice = nextPhone();
    expect(
      await rejection(sessions.create({ participants: [{ Identifier: twice }, { Identifier: twice }] })),
    ).toMatchObject({ code: 80103 });

    // No number of the Service is free for this participant: 80206, and the failed create leaves nothing.
    const other = await sessions
      .create({ participants: [{ Identifier: a }] })
      .catch((e: unknown) => e as RestError);
    expect(other).toMatchObject({ code: 80206 });
    expect((await sessions.list()).map((x) => x.sid)).toEqual([s.sid]);

    // Another account sees none of it.
    const rival = await createAccount(system, 'proxy-rival');
    const rivalClient = twilioClient(
      system.baseUrl,
      String(((await (await rival.api('/')).json()) as Json).twilio_account_sid),
      rival.authToken,
    );
    expect(await rejection(rivalClient.proxy.v1.services(service.sid).sessions(s.sid).fetch())).toMatchObject(
      { status: 404 },
    );
    await sessions(s.sid).remove();
  });

  it('gives reserved numbers only when named, matches the area code, and keeps or avoids a participant’s earlier number', async () => {
    const service = await client.proxy.v1.services.create({
      uniqueName: 'local',
      geoMatchLevel: 'area-code',
      numberSelectionBehavior: 'prefer-sticky',
    });
    const pool = client.proxy.v1.services(service.sid).phoneNumbers;
    for (const n of [N3, N628a, N6]) await pool.create({ phoneNumber: n });
    await pool.create({ phoneNumber: N628b, isReserved: true });
    const sessions = client.proxy.v1.services(service.sid).sessions;

    // A 628 caller gets the 628 number; the reserved 628 one only when named.
    const local = nextPhone('628');
    const s1 = await sessions.create({ participants: [{ Identifier: local }] });
    expect((await sessions(s1.sid).participants.list())[0].proxyIdentifier).toBe(N628a);
    const s2 = await rejection(sessions.create({ participants: [{ Identifier: local }] }));
    expect(s2).toMatchObject({ code: 80206 });
    const pinned = await sessions.create({ participants: [{ Identifier: local, ProxyIdentifier: N628b }] });
    expect((await sessions(pinned.sid).participants.list())[0].proxyIdentifier).toBe(N628b);

    // prefer-sticky: the 415 participant gets the number it had before once that is free again.
    const regular = nextPhone('415');
    const first = await sessions.create({ participants: [{ Identifier: regular }] });
    const had = (await sessions(first.sid).participants.list())[0].proxyIdentifier;
    expect([N3, N6]).toContain(had);
    await sessions(first.sid).update({ status: 'closed' });
    for (let i = 0; i < 2; i++) {
      const next = await sessions.create({ participants: [{ Identifier: regular }] });
      expect((await sessions(next.sid).participants.list())[0].proxyIdentifier).toBe(had);
      await sessions(next.sid).update({ status: 'closed' });
    }
    // avoid-sticky: a different one, while there is one.
    await client.proxy.v1.services(service.sid).update({ numberSelectionBehavior: 'avoid-sticky' });
    const avoided = await sessions.create({ participants: [{ Identifier: regular }] });
    expect((await sessions(avoided.sid).participants.list())[0].proxyIdentifier).toBe(had === N3 ? N6 : N3);

    for (const s of await sessions.list()) await sessions(s.sid).remove();
  });

  it('shares one pool with the Plivo API: a party never holds one number in two live sessions, and each API sees only its own sessions', async () => {
    const service = await client.proxy.v1.services.create({ uniqueName: 'shared', geoMatchLevel: 'country' });
    // The Service has N1 (freed by the first test) and N2's sessions are gone too.
    for (const n of [N1, N2]) {
      await client.proxy.v1.services.list().then(async (all) => {
        for (const other of all.filter((x) => x.sid !== service.sid)) {
          await client.proxy.v1
            .services(other.sid)
            .phoneNumbers(n)
            .remove()
            .catch(() => undefined);
        }
      });
      await client.proxy.v1.services(service.sid).phoneNumbers.create({ phoneNumber: n });
    }
    const [party, other] = [nextPhone(), nextPhone()];
    // A Plivo-style session takes a number for the party first...
    const plivo = await team.api('/Masking/Session/', {
      body: { first_party: party, second_party: other, geomatch: true },
    });
    expect(plivo.status).toBe(201);
    const plivoSession = (await plivo.json()) as Json;
    const plivoNumber = `+${String(plivoSession.virtual_number).replace(/^\+/, '')}`;

    // ...and a Proxy session for the same party gets another of the Service's numbers, never that one.
    const sessions = client.proxy.v1.services(service.sid).sessions;
    const proxied = await sessions.create({ participants: [{ Identifier: party }] });
    const proxyNumber = (await sessions(proxied.sid).participants.list())[0].proxyIdentifier;
    expect([N1, N2]).toContain(proxyNumber);
    expect(proxyNumber).not.toBe(plivoNumber);

    // Each API sees its own sessions only.
    const uuid = proxied.sid.slice(2).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
    expect((await team.api(`/Masking/Session/${uuid}/`)).status).toBe(404);
    const listed = (await (await team.api('/Masking/Session/')).json()) as { response: { objects: Json[] } };
    expect(listed.response.objects.map((o) => o.session_uuid)).toEqual([plivoSession.session_uuid]);
    const plivoAsKc = `KC${String(plivoSession.session_uuid).replace(/-/g, '')}`;
    expect(await rejection(sessions(plivoAsKc).fetch())).toMatchObject({ status: 404 });

    // A subaccount's Sessions are its own.
    const sub = await createSubaccount(system, team, 'proxy-sub');
    const subClient = twilioClient(
      system.baseUrl,
      String(((await (await sub.api('/')).json()) as Json).twilio_account_sid),
      sub.authToken,
    );
    expect(await rejection(subClient.proxy.v1.services(service.sid).sessions.list())).toMatchObject({
      status: 404,
    });

    await sessions(proxied.sid).remove();
    await team.api(`/Masking/Session/${String(plivoSession.session_uuid)}/`, { method: 'DELETE' });
  });

  it('asks the Service’s intercept before each call and text: 403 blocks; a timeout lets it through, or blocks when fail-closed', async () => {
    outside.on('/intercept/block', () => ({ status: 403 }));
    outside.on('/intercept/slow', () => ({ status: 200, delayMs: 1500 }));
    const scenario = async (name: string, number: string, path: string, failClosed: boolean) => {
      const service = await client.proxy.v1.services.create({
        uniqueName: name,
        interceptCallbackUrl: `${outside.baseUrl}${path}`,
      });
      if (failClosed) {
        // Maskline's extension: Twilio's SDK does not know it, so it is set with a plain request.
        const res = await fetch(`${system.baseUrl}/v1/Services/${service.sid}`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`${service.accountSid}:${team.authToken}`).toString('base64')}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: 'InterceptFailClosed=true',
        });
        expect([res.status, ((await res.json()) as Json).intercept_fail_closed]).toEqual([200, true]);
      }
      await client.proxy.v1.services(service.sid).phoneNumbers.create({ phoneNumber: number });
      const [a, b] = [nextPhone(), nextPhone()];
      const session = await client.proxy.v1
        .services(service.sid)
        .sessions.create({ participants: [{ Identifier: a }, { Identifier: b }] });
      const call = await sim().call({ from: a, to: number, callee: { answers: true, talkSeconds: 5 } });
      const body = `${name}: are you there?`;
      await text(a, number, body);
      await expectEventually(async () =>
        expect(await consumerCaughtUp(nc, 'call-router-message-relay')).toBe(true),
      );
      return { service, session, call, relayed: sent(body).length > 0, a, b };
    };

    const blocked = await scenario('intercept-403', N7, '/intercept/block', false);
    expect(blocked.call.dials).toEqual([]);
    expect(blocked.call.heard).toContain('say:This call cannot be connected. Goodbye.');
    expect(blocked.relayed).toBe(false);
    // Asked twice (the call, the text), signed with the account's Auth Token, with SIDs and no numbers.
    const asked = outside.for('/intercept/block');
    expect(asked.map((r) => r.params.interactionType).sort()).toEqual(['Message', 'Voice']);
    for (const r of asked) {
      expect(r.params.interactionSessionSid).toBe(blocked.session.sid);
      expect(r.params.interactionServiceSid).toBe(blocked.service.sid);
      expect(
        verifyTwilioSignature(team.authToken, r.url, r.params, String(r.headers['x-twilio-signature'])),
      ).toBe(true);
      expect(JSON.stringify(r.params)).not.toContain(blocked.a.slice(1));
      expect(JSON.stringify(r.params)).not.toContain('are you there');
    }

    const open = await scenario('intercept-slow', N8, '/intercept/slow', false);
    expect(open.call.dials).toEqual([expect.objectContaining({ number: open.b, callerId: N8 })]);
    expect(open.relayed).toBe(true);

    const closed = await scenario('intercept-fail-closed', N9, '/intercept/slow', true);
    expect(closed.call.dials).toEqual([]);
    expect(closed.relayed).toBe(false);
  });

  it('asks the out-of-session callback about a stranger; its auto-create answer makes a Session and the text goes through', async () => {
    const agent = nextPhone();
    outside.on('/out-of-session', () => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uniqueName: 'listing-42', ttl: 3600, participantIdentifier: agent }),
    }));
    const service = await client.proxy.v1.services.create({
      uniqueName: 'directory',
      outOfSessionCallbackUrl: `${outside.baseUrl}/out-of-session`,
    });
    // A reserved number (a seller's published one): only named, or reached this way.
    await client.proxy.v1.services(service.sid).phoneNumbers.create({ phoneNumber: N10, isReserved: true });
    const buyer = nextPhone();
    await text(buyer, N10, 'is the bike still for sale?');
    await expectEventually(() =>
      expect(sent('is the bike still for sale?')).toEqual([
        expect.objectContaining({ from: N10, to: agent }),
      ]),
    );
    const asked = outside.for('/out-of-session');
    expect(asked).toHaveLength(1);
    expect(asked[0].params).toMatchObject({ From: buyer, To: N10, interactionType: 'Message' });
    expect(JSON.stringify(asked[0].params)).not.toContain('bike');
    expect(
      verifyTwilioSignature(
        team.authToken,
        asked[0].url,
        asked[0].params,
        String(asked[0].headers['x-twilio-signature']),
      ),
    ).toBe(true);

    const made = await client.proxy.v1.services(service.sid).sessions('listing-42').fetch();
    const parties = await client.proxy.v1.services(service.sid).sessions(made.sid).participants.list();
    expect(parties.map((p) => [p.identifier, p.proxyIdentifier])).toEqual([
      [buyer, N10],
      [agent, N10],
    ]);
    // From now on they are in a Session: the agent's reply and a call go through without asking.
    await text(agent, N10, 'yes, come by at six');
    await expectEventually(() =>
      expect(sent('yes, come by at six')).toEqual([expect.objectContaining({ from: N10, to: buyer })]),
    );
    expect((await sim().call({ from: buyer, to: N10 })).dials).toEqual([
      expect.objectContaining({ number: agent, callerId: N10 }),
    ]);
    expect(outside.for('/out-of-session')).toHaveLength(1);

    // A TwiML answer is carried out: spoken to a caller, sent back to a texter.
    outside.on('/out-of-session/closed', (r) => ({
      status: 200,
      headers: { 'content-type': 'application/xml' },
      body:
        r.params.interactionType === 'Voice'
          ? '<?xml version="1.0" encoding="UTF-8"?><Response><Say>This listing has closed.</Say></Response>'
          : '<Response><Message>This listing has closed. Reply STOP to stop.</Message></Response>',
    }));
    const closedListing = await client.proxy.v1.services.create({
      uniqueName: 'closed-listings',
      outOfSessionCallbackUrl: `${outside.baseUrl}/out-of-session/closed`,
    });
    await client.proxy.v1.services(closedListing.sid).phoneNumbers.create({ phoneNumber: N12 });
    const latecomer = nextPhone();
    const call = await sim().call({ from: latecomer, to: N12 });
    expect(call.heard).toEqual(['say:This listing has closed.']);
    expect(call.dials).toEqual([]);
    await text(latecomer, N12, 'still available?');
    await expectEventually(() =>
      expect(sent('This listing has closed. Reply STOP to stop.')).toEqual([
        expect.objectContaining({ from: N12, to: latecomer }),
      ]),
    );
    // Texted again within the hour: the Service is told again, but the number answers a sender on
    // its own once an interval, as the fallback does (a reply to an auto-responder would loop).
    const toldOfTexts = () =>
      outside.for('/out-of-session/closed').filter((r) => r.params.interactionType === 'Message');
    await text(latecomer, N12, 'hello?');
    await expectEventually(() => expect(toldOfTexts()).toHaveLength(2));
    await expectEventually(async () =>
      expect(await consumerCaughtUp(nc, 'call-router-message-relay')).toBe(true),
    );
    expect(sent('This listing has closed. Reply STOP to stop.')).toHaveLength(1);
    expect(await client.proxy.v1.services(closedListing.sid).sessions.list()).toEqual([]);
  });

  it('tells the Service’s callback_url of each interaction, in Twilio’s parameters, signed as Twilio signs', async () => {
    const service = await client.proxy.v1.services.create({
      uniqueName: 'with-callbacks',
      callbackUrl: `${outside.baseUrl}/proxy-callbacks`,
    });
    await client.proxy.v1.services(service.sid).phoneNumbers.create({ phoneNumber: N11 });
    const [a, b] = [nextPhone(), nextPhone()];
    const session = await client.proxy.v1
      .services(service.sid)
      .sessions.create({ participants: [{ Identifier: a }, { Identifier: b }] });
    await text(a, N11, 'see you at the corner');
    await sim().call({ from: b, to: N11, callee: { answers: true, talkSeconds: 12 } });

    await expectEventually(() => expect(outside.for('/proxy-callbacks')).toHaveLength(2));
    const heard = outside.for('/proxy-callbacks');
    const interactions = await client.proxy.v1
      .services(service.sid)
      .sessions(session.sid)
      .interactions.list();
    expect(heard.map((r) => r.params.interactionSid).sort()).toEqual(interactions.map((i) => i.sid).sort());
    const message = heard.find((r) => r.params.interactionType === 'Message')!;
    expect(message.params).toMatchObject({
      interactionSessionSid: session.sid,
      interactionServiceSid: service.sid,
      interactionAccountSid: service.accountSid,
      outboundResourceStatus: 'delivered',
      interactionData: JSON.stringify({ segments: 1 }),
    });
    const voice = heard.find((r) => r.params.interactionType === 'Voice')!;
    expect(JSON.parse(voice.params.interactionData)).toEqual({ duration: '12' });
    for (const r of heard) {
      expect(
        verifyTwilioSignature(team.authToken, r.url, r.params, String(r.headers['x-twilio-signature'])),
      ).toBe(true);
      // Never a participant's number, never a message's text; and not Plivo's session callbacks.
      for (const n of [a, b]) expect(JSON.stringify(r.params)).not.toContain(n.slice(2));
      expect(JSON.stringify(r.params)).not.toContain('corner');
      expect(r.params.EventName).toBeUndefined();
    }

    // An interaction's record can be deleted; the Session and its other interactions stay.
    const interactionsOf = client.proxy.v1.services(service.sid).sessions(session.sid).interactions;
    const voiceSid = voice.params.interactionSid;
    expect(await interactionsOf(voiceSid).remove()).toBe(true);
    expect((await interactionsOf.list()).map((i) => i.type)).toEqual(['message']);
    expect(await rejection(interactionsOf(voiceSid).fetch())).toMatchObject({ status: 404, code: 20404 });
    expect(await rejection(interactionsOf(voiceSid).remove())).toMatchObject({ status: 404 });
    expect((await client.proxy.v1.services(service.sid).sessions(session.sid).fetch()).status).toBe(
      'in-progress',
    );
  });

  it('takes a Ttl update and a participant joining at once in turn: the routers’ latest view has both', async () => {
    const service = await client.proxy.v1.services.create({ uniqueName: 'in-turn' });
    await client.proxy.v1.services(service.sid).phoneNumbers.create({ phoneNumber: N13 });
    const [a, b] = [nextPhone(), nextPhone()];
    const sessions = client.proxy.v1.services(service.sid).sessions;
    const session = await sessions.create({ ttl: 600, participants: [{ Identifier: a }] });
    const [, updated] = await Promise.all([
      sessions(session.sid).participants.create({ identifier: b }),
      sessions(session.sid).update({ ttl: 7200 }),
    ]);
    expect(updated.ttl).toBe(7200);
    const stored = await sessions(session.sid).fetch();
    expect(Math.abs(stored.dateExpiry.getTime() - (Date.now() + 7_200_000))).toBeLessThan(60_000);

    // The routers keep the latest view by modifiedAt: each change's is later than the last, and
    // the last is the session as stored, with the joined party and the new expiry.
    await expectEventually(async () => {
      const views = (await eventsOn(nc, SessionUpdated))
        .map((e) => e.routing!)
        .filter((r) => r.proxyServiceSid === service.sid);
      expect(views).toHaveLength(2);
      const times = views.map((r) => Date.parse(r.modifiedAt!));
      expect(times[1]).toBeGreaterThan(times[0]!);
      expect(views[1]).toMatchObject({ firstParty: a, secondParty: b });
      // Twilio's DateExpiry is shown to the second.
      expect(Math.floor(Date.parse(views[1]!.expiresAt) / 1000) * 1000).toBe(stored.dateExpiry.getTime());
    });
  });

  it('bounds the Sessions without participants one account may hold open', async () => {
    const service = await client.proxy.v1.services.create({ uniqueName: 'empties' });
    await client.proxy.v1
      .services(service.sid)
      .phoneNumbers.create({ phoneNumber: N12 })
      .catch(() => undefined);
    const sessions = client.proxy.v1.services(service.sid).sessions;
    const open = [];
    for (let i = 0; i < 4; i++) open.push(await sessions.create({ uniqueName: `empty-${i}` }));
    const refused = await rejection(sessions.create({ uniqueName: 'one-too-many' }));
    expect(refused).toMatchObject({ status: 409, code: 20409 });
    expect(refused.message).toContain('without participants');
    // Closing one makes room.
    await sessions(open[0].sid).update({ status: 'closed' });
    expect((await sessions.create({ uniqueName: 'room-again' })).status).toBe('open');
    for (const s of await sessions.list()) await sessions(s.sid).remove();
  });
});
