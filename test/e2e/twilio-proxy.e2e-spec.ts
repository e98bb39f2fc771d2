import { createAccount, createSubaccount, type TestAccount } from './support/accounts';
import { E2eSystem } from './support/e2e-system';
import { rejection, twilioClient } from './support/twilio-sdk';

/** This suite's bound on an account's Proxy Services. */
const SERVICES_MAX = 25;

type Json = Record<string, unknown>;

describe('Twilio Proxy API (v1) through the gateway, driven by Twilio’s own SDK', () => {
  let system: E2eSystem;
  let acme: TestAccount;
  let acmeSid: string;

  const accountSidOf = async (account: TestAccount) =>
    String(((await (await account.api('/')).json()) as Json).twilio_account_sid);

  beforeAll(async () => {
    // A bound on an account's Services a test can reach (the other tests' account stays well under it).
    system = await E2eSystem.start(
      {},
      (service): Record<string, string> =>
        service === 'session-service' ? { PROXY_SERVICES_MAX: String(SERVICES_MAX) } : {},
    );
    acme = await createAccount(system, 'acme-proxy');
    acmeSid = await accountSidOf(acme);
  });

  afterAll(async () => {
    await system?.stop();
  });

  it('gives each account a Twilio Account SID, and with it and the Auth Token the SDK manages Services', async () => {
    expect(acmeSid).toMatch(/^AC[0-9a-f]{32}$/);
    const client = twilioClient(system.baseUrl, acmeSid, acme.authToken);
    const services = client.proxy.v1.services;

    const created = await services.create({
      uniqueName: 'rides',
      defaultTtl: 3600,
      geoMatchLevel: 'area-code',
      numberSelectionBehavior: 'avoid-sticky',
      callbackUrl: 'http://127.0.0.1:9/proxy-callbacks',
    });
    expect(created.sid).toMatch(/^KS[0-9a-f]{32}$/);
    expect(created).toMatchObject({
      accountSid: acmeSid,
      uniqueName: 'rides',
      defaultTtl: 3600,
      geoMatchLevel: 'area-code',
      numberSelectionBehavior: 'avoid-sticky',
      callbackUrl: 'http://127.0.0.1:9/proxy-callbacks',
      interceptCallbackUrl: null,
      url: `${system.baseUrl}/v1/Services/${created.sid}`,
    });
    expect(created.dateCreated).toBeInstanceOf(Date);
    expect(Math.abs(created.dateCreated.getTime() - Date.now())).toBeLessThan(60_000);

    // By SID and by UniqueName, as Twilio's paths allow.
    expect((await services(created.sid).fetch()).uniqueName).toBe('rides');
    expect((await services('rides').fetch()).sid).toBe(created.sid);

    const updated = await services(created.sid).update({ defaultTtl: 600, callbackUrl: '' });
    expect(updated).toMatchObject({ defaultTtl: 600, callbackUrl: null, uniqueName: 'rides' });
    expect((await services(created.sid).update({ uniqueName: 'rides-eu' })).uniqueName).toBe('rides-eu');
    expect(await rejection(services('rides').fetch())).toMatchObject({ status: 404 });
    // The old name is free again, the new one taken.
    const reused = await services.create({ uniqueName: 'rides' });
    const taken = await rejection(services.create({ uniqueName: 'rides-eu' }));
    expect(taken).toMatchObject({ status: 409, code: 80602 });
    expect(taken.message).toContain('UniqueName');

    expect(await services(reused.sid).remove()).toBe(true);
    expect(await services(created.sid).remove()).toBe(true);
    const gone = await rejection(services(created.sid).fetch());
    expect(gone).toMatchObject({
      status: 404,
      code: 20404,
      moreInfo: 'https://www.twilio.com/docs/errors/20404',
    });
  });

  it('pages lists as Twilio does: the SDK follows next_page_url to the end, newest first', async () => {
    const account = await createAccount(system, 'pager');
    const client = twilioClient(system.baseUrl, await accountSidOf(account), account.authToken);
    for (const name of ['one', 'two', 'three']) await client.proxy.v1.services.create({ uniqueName: name });

    const all = await client.proxy.v1.services.list({ pageSize: 2 });
    expect(all.map((s) => s.uniqueName)).toEqual(['three', 'two', 'one']);

    const page = (await (
      await fetch(`${system.baseUrl}/v1/Services?PageSize=2&Page=0`, {
        headers: { authorization: basic(await accountSidOf(account), account.authToken) },
      })
    ).json()) as { meta: Json; services: Json[] };
    expect(page.services).toHaveLength(2);
    expect(page.meta).toEqual({
      page: 0,
      page_size: 2,
      first_page_url: `${system.baseUrl}/v1/Services?PageSize=2&Page=0`,
      previous_page_url: null,
      next_page_url: `${system.baseUrl}/v1/Services?PageSize=2&Page=1`,
      url: `${system.baseUrl}/v1/Services?PageSize=2&Page=0`,
      key: 'services',
    });

    // A page reaches 10,000 records before it at most (Page × PageSize): past that, a 400 naming Page.
    const auth = { authorization: basic(await accountSidOf(account), account.authToken) };
    expect(
      (await fetch(`${system.baseUrl}/v1/Services?PageSize=1000&Page=10`, { headers: auth })).status,
    ).toBe(200);
    const far = await fetch(`${system.baseUrl}/v1/Services?PageSize=1000&Page=11`, { headers: auth });
    expect(far.status).toBe(400);
    expect(await far.json()).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^Page × PageSize must be at most 10000/),
    });
  });

  it('authenticates API keys (SK…) made through the account API, until they are revoked', async () => {
    const made = await acme.api('/ApiKey/', { body: { friendly_name: 'ci' } });
    expect(made.status).toBe(201);
    const key = (await made.json()) as Json;
    expect(key).toMatchObject({ friendly_name: 'ci', account_sid: acmeSid, auth_id: acme.authId });
    expect(String(key.sid)).toMatch(/^SK[0-9a-f]{32}$/);
    expect(String(key.secret)).toHaveLength(32);

    const client = twilioClient(system.baseUrl, String(key.sid), String(key.secret), { accountSid: acmeSid });
    const service = await client.proxy.v1.services.create({ uniqueName: 'via-key' });
    expect(service.accountSid).toBe(acmeSid);

    // Listed without its secret; another account can neither see nor revoke it.
    const listed = (await (await acme.api('/ApiKey/')).json()) as { objects: Json[] };
    expect(listed.objects.map((k) => k.sid)).toEqual([key.sid]);
    expect(JSON.stringify(listed)).not.toContain(String(key.secret));
    const rival = await createAccount(system, 'rival-proxy');
    expect((await rival.api(`/ApiKey/${String(key.sid)}`, { method: 'DELETE' })).status).toBe(404);
    expect((await (await rival.api('/ApiKey/')).json()) as Json).toMatchObject({ objects: [] });

    expect((await acme.api(`/ApiKey/${String(key.sid)}`, { method: 'DELETE' })).status).toBe(204);
    const refused = await rejection(client.proxy.v1.services(service.sid).fetch());
    expect(refused).toMatchObject({ status: 401, code: 20003 });
    await twilioClient(system.baseUrl, acmeSid, acme.authToken).proxy.v1.services(service.sid).remove();
  });

  it('lets a main account make, see and revoke its subaccounts’ keys; a subaccount only its own', async () => {
    const sub = await createSubaccount(system, acme, 'keys-sub');
    const subSid = await accountSidOf(sub);
    const made = await acme.api('/ApiKey/', { body: { friendly_name: 'for-sub', subaccount: sub.authId } });
    expect(made.status).toBe(201);
    const key = (await made.json()) as Json;
    expect(key).toMatchObject({ auth_id: sub.authId, account_sid: subSid });
    // It acts as the subaccount: it sees the subaccount's Services, not the parent's.
    const asSub = twilioClient(system.baseUrl, String(key.sid), String(key.secret), { accountSid: subSid });
    const subService = await asSub.proxy.v1.services.create({ uniqueName: 'sub-only' });
    expect(subService.accountSid).toBe(subSid);

    const own = await sub.api('/ApiKey/', { body: { friendly_name: 'its-own' } });
    const ownKey = (await own.json()) as Json;
    const parentKey = (await (
      await acme.api('/ApiKey/', { body: { friendly_name: 'parent' } })
    ).json()) as Json;
    const sids = (res: Json) => (res.objects as Json[]).map((k) => k.sid);
    expect(sids((await (await acme.api('/ApiKey/')).json()) as Json)).toEqual(
      expect.arrayContaining([key.sid, ownKey.sid, parentKey.sid]),
    );
    expect(sids((await (await sub.api('/ApiKey/')).json()) as Json).sort()).toEqual(
      [key.sid, ownKey.sid].sort(),
    );
    // The subaccount can neither revoke its parent's key nor act for another account.
    expect((await sub.api(`/ApiKey/${String(parentKey.sid)}`, { method: 'DELETE' })).status).toBe(404);
    expect((await sub.api('/ApiKey/', { body: { subaccount: sub.authId } })).status).toBe(400);
    const stranger = await createSubaccount(system, await createAccount(system, 'other-parent'), 'not-yours');
    expect((await acme.api('/ApiKey/', { body: { subaccount: stranger.authId } })).status).toBe(400);

    // The parent revokes the subaccount's key: it stops at once.
    expect((await acme.api(`/ApiKey/${String(key.sid)}`, { method: 'DELETE' })).status).toBe(204);
    expect(await rejection(asSub.proxy.v1.services.list())).toMatchObject({ status: 401, code: 20003 });
    for (const k of [ownKey, parentKey]) await acme.api(`/ApiKey/${String(k.sid)}`, { method: 'DELETE' });
    await twilioClient(system.baseUrl, subSid, sub.authToken).proxy.v1.services(subService.sid).remove();
  });

  it('bounds the API keys one account can hold', async () => {
    const team = await createAccount(system, 'key-hoarder');
    const made = await Promise.all(
      Array.from({ length: 100 }, (_, i) => team.api('/ApiKey/', { body: { friendly_name: `k${i}` } })),
    );
    expect(made.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
    const refused = await team.api('/ApiKey/', { body: { friendly_name: 'one too many' } });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as Json).error).toContain('at most 100 API keys');
  });

  it('lets the operator make and revoke keys of any account', async () => {
    const admin = (path: string, init: RequestInit = {}) =>
      fetch(`${system.baseUrl}/admin/v1/accounts/${acme.authId}${path}`, {
        ...init,
        headers: { 'content-type': 'application/json', 'x-operator-key': system.operatorKey },
      });
    const made = await admin('/api-keys', { method: 'POST', body: JSON.stringify({ friendly_name: 'ops' }) });
    expect(made.status).toBe(201);
    const key = (await made.json()) as Json;
    const client = twilioClient(system.baseUrl, String(key.sid), String(key.secret), { accountSid: acmeSid });
    expect(Array.isArray(await client.proxy.v1.services.list())).toBe(true);
    expect((await admin(`/api-keys/${String(key.sid)}`, { method: 'DELETE' })).status).toBe(204);
    expect(await rejection(client.proxy.v1.services.list())).toMatchObject({ status: 401, code: 20003 });
    expect((await admin(`/api-keys/${String(key.sid)}`, { method: 'DELETE' })).status).toBe(404);

    // For one of the account's subaccounts, as on the account API; never another account's.
    const sub = await createSubaccount(system, acme, 'ops-sub');
    const forSub = await admin('/api-keys', {
      method: 'POST',
      body: JSON.stringify({ subaccount: sub.authId }),
    });
    expect([forSub.status, ((await forSub.json()) as Json).auth_id]).toEqual([201, sub.authId]);
    const strangerSub = await createSubaccount(system, await createAccount(system, 'elsewhere'), 'x');
    expect(
      (await admin('/api-keys', { method: 'POST', body: JSON.stringify({ subaccount: strangerSub.authId }) }))
        .status,
    ).toBe(400);
  });

  it('keeps a subaccount’s Services its own, and its parent’s out of its reach', async () => {
    const sub = await createSubaccount(system, acme, 'drivers-eu');
    const subSid = await accountSidOf(sub);
    expect(subSid).not.toBe(acmeSid);
    const parent = twilioClient(system.baseUrl, acmeSid, acme.authToken).proxy.v1.services;
    const child = twilioClient(system.baseUrl, subSid, sub.authToken).proxy.v1.services;

    const mine = await parent.create({ uniqueName: 'shared-name' });
    // Names are unique per account: the subaccount may use the same one.
    const theirs = await child.create({ uniqueName: 'shared-name' });
    expect(theirs.accountSid).toBe(subSid);
    expect((await child.list()).map((s) => s.sid)).toEqual([theirs.sid]);
    expect((await parent.list()).map((s) => s.sid)).not.toContain(theirs.sid);
    expect(await rejection(child(mine.sid).fetch())).toMatchObject({ status: 404, code: 20404 });
    expect(await rejection(child(mine.sid).remove())).toMatchObject({ status: 404 });
    expect(await rejection(child(mine.sid).update({ defaultTtl: 1 }))).toMatchObject({ status: 404 });
    expect(await rejection(parent(theirs.sid).fetch())).toMatchObject({ status: 404 });
    expect((await parent('shared-name').fetch()).sid).toBe(mine.sid);
    expect((await child('shared-name').fetch()).sid).toBe(theirs.sid);
    await parent(mine.sid).remove();
    await child(theirs.sid).remove();
  });

  it('gives a Service numbers of the account, one Service per number, on the pool Plivo-style sessions share', async () => {
    const team = await createAccount(system, 'proxy-numbers');
    const numbers = ['+14155550171', '+14155550172'];
    const added = await team.api('/Number/', { body: { numbers: numbers.join(','), provider: 'twilio' } });
    expect(added.status).toBe(202);
    const client = twilioClient(system.baseUrl, await accountSidOf(team), team.authToken);
    const service = await client.proxy.v1.services.create({ uniqueName: 'deliveries' });
    const pool = client.proxy.v1.services(service.sid).phoneNumbers;

    const first = await pool.create({ phoneNumber: numbers[0] });
    expect(first).toMatchObject({
      phoneNumber: numbers[0],
      serviceSid: service.sid,
      isReserved: false,
      inUse: 0,
      isoCountry: 'US',
      capabilities: expect.objectContaining({ voice_inbound: true, sms_outbound: true }),
    });
    expect(first.sid).toMatch(/^PN[0-9a-f]{32}$/);
    // By the number's SID too, reserved: only sessions that name it may have it.
    const secondSid = (await pool.create({ phoneNumber: numbers[1] })).sid;
    await pool(secondSid).remove();
    const second = await pool.create({ sid: secondSid, isReserved: true });
    expect(second).toMatchObject({ phoneNumber: numbers[1], isReserved: true });
    expect((await pool.list()).map((n) => n.phoneNumber)).toEqual(numbers);
    expect((await pool(numbers[1]).fetch()).sid).toBe(secondSid);

    // A number serves one Service; a number not the account's is not available either.
    const other = await client.proxy.v1.services.create({ uniqueName: 'other' });
    const busy = await rejection(
      client.proxy.v1.services(other.sid).phoneNumbers.create({ phoneNumber: numbers[0] }),
    );
    expect(busy).toMatchObject({ status: 409, code: 80601 });
    const foreign = await rejection(pool.create({ phoneNumber: '+14155550100' }));
    expect(foreign).toMatchObject({ status: 409, code: 80601 });
    expect(await rejection(pool.create({ isReserved: true }))).toMatchObject({ status: 400, code: 20001 });

    // One pool: a Plivo-style session takes the unreserved number, never the reserved one, and
    // the Service sees it in use.
    const plivoSession = async () =>
      team.api('/Masking/Session/', { body: { first_party: '+16285550101', second_party: '+16285550102' } });
    const s1 = await plivoSession();
    expect(s1.status).toBe(201);
    expect(((await s1.json()) as Json).virtual_number).toBe(numbers[0]);
    expect((await pool(first.sid).fetch()).inUse).toBe(1);
    expect((await plivoSession()).status).toBe(409); // the same parties: only the reserved number is left
    expect((await pool(secondSid).update({ isReserved: false })).isReserved).toBe(false);
    const s2 = await plivoSession();
    expect(s2.status).toBe(201);
    expect(((await s2.json()) as Json).virtual_number).toBe(numbers[1]);

    // Deleting the Service gives its numbers back to the account alone: another Service may take them.
    expect(await client.proxy.v1.services(service.sid).remove()).toBe(true);
    expect(
      (await client.proxy.v1.services(other.sid).phoneNumbers.create({ phoneNumber: numbers[0] })).serviceSid,
    ).toBe(other.sid);
    // The Plivo-style view says which Service a number serves.
    const plivoView = (await (await team.api(`/Number/${numbers[0].slice(1)}/`)).json()) as Json;
    expect(plivoView).toMatchObject({ proxy_service_sid: other.sid, is_reserved: false });

    // Two Services asking for one free number at once: one gets it, the other is told it is taken.
    const third = await client.proxy.v1.services.create({ uniqueName: 'third' });
    const race = await Promise.allSettled([
      client.proxy.v1.services(third.sid).phoneNumbers.create({ phoneNumber: numbers[1] }),
      client.proxy.v1.services(other.sid).phoneNumbers.create({ phoneNumber: numbers[1] }),
    ]);
    expect(race.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(race.find((r) => r.status === 'rejected')).toMatchObject({ reason: { status: 409, code: 80601 } });
    const winner = (
      race.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ serviceSid: string }>
    ).value.serviceSid;
    const loser = winner === third.sid ? other.sid : third.sid;
    expect((await client.proxy.v1.services(winner).phoneNumbers.list()).map((n) => n.phoneNumber)).toContain(
      numbers[1],
    );
    expect(
      (await client.proxy.v1.services(loser).phoneNumbers.list()).map((n) => n.phoneNumber),
    ).not.toContain(numbers[1]);

    // A number the account moves to a subaccount leaves its Service (a Service is its owner's).
    const sub = await createSubaccount(system, team, 'moved-to');
    expect(
      (await team.api(`/Number/${numbers[1].slice(1)}/`, { body: { subaccount: sub.authId } })).status,
    ).toBe(202);
    expect(
      (await client.proxy.v1.services(winner).phoneNumbers.list()).map((n) => n.phoneNumber),
    ).not.toContain(numbers[1]);

    // Bad paths are 4xx in Twilio's shape, never a 500.
    const raw = (path: string) =>
      fetch(`${system.baseUrl}${path}`, { headers: { authorization: basic(acmeSid, acme.authToken) } });
    for (const path of [
      `/v1/Services/${other.sid}/PhoneNumbers/%25E0`,
      `/v1/Services/${other.sid}/PhoneNumbers/PN123`,
      `/v1/Services/${other.sid}/Nonsense`,
      '/v1/services/KS0',
    ]) {
      const res = await raw(path);
      expect([path, res.status, ((await res.json()) as Json).code]).toEqual([path, 404, 20404]);
    }
    // A message to a participant of a session that is not there: 404, in Twilio's shape.
    const nowhere = await rejection(
      client.proxy.v1
        .services(other.sid)
        .sessions(`KC${'0'.repeat(32)}`)
        .participants(`KP${'0'.repeat(32)}`)
        .messageInteractions.create({ body: 'hello' }),
    );
    expect(nowhere).toMatchObject({ status: 404, code: 20404 });
    const stray = await rejection(
      client.proxy.v1.services(other.sid).phoneNumbers.create({ phoneNumber: '%' }),
    );
    expect(stray).toMatchObject({ status: 400, code: 20001 });

    // Another account sees none of it.
    const rival = twilioClient(system.baseUrl, acmeSid, acme.authToken);
    expect(await rejection(rival.proxy.v1.services(other.sid).phoneNumbers.list())).toMatchObject({
      status: 404,
    });
  });

  it('holds an account to PROXY_SERVICES_MAX Services, its subaccounts’ included (409, 20409); one deleted makes room; another account is not held by it', async () => {
    const fleet = await createAccount(system, 'service-hoarder');
    const sub = await createSubaccount(system, fleet, 'hoarder-sub');
    const client = twilioClient(system.baseUrl, await accountSidOf(fleet), fleet.authToken);
    const subClient = twilioClient(system.baseUrl, await accountSidOf(sub), sub.authToken);
    const first = await client.proxy.v1.services.create({ uniqueName: 'fleet-0' });
    for (let i = 1; i < SERVICES_MAX - 1; i++)
      await client.proxy.v1.services.create({ uniqueName: `fleet-${i}` });
    await subClient.proxy.v1.services.create({ uniqueName: 'fleet-sub-0' });
    // At the bound: neither the account nor its subaccount makes another, and the answer says why.
    for (const c of [client, subClient]) {
      const refused = await rejection(c.proxy.v1.services.create({ uniqueName: 'one-too-many' }));
      expect(refused).toMatchObject({ status: 409, code: 20409 });
      expect(String(refused.message)).toContain(`${SERVICES_MAX} Services`);
    }
    // Another account is not held by this one's count.
    const elsewhere = twilioClient(system.baseUrl, acmeSid, acme.authToken);
    const theirs = await elsewhere.proxy.v1.services.create({ uniqueName: 'not-held' });
    expect(await elsewhere.proxy.v1.services(theirs.sid).remove()).toBe(true);
    // One deleted makes room for one.
    expect(await client.proxy.v1.services(first.sid).remove()).toBe(true);
    await subClient.proxy.v1.services.create({ uniqueName: 'fleet-sub-1' });
    expect(await rejection(client.proxy.v1.services.create({ uniqueName: 'fleet-again' }))).toMatchObject({
      status: 409,
    });
  });

  it('answers bad input and bad credentials in Twilio’s error shape, naming the parameter', async () => {
    const post = (path: string, form: Record<string, string>, auth = basic(acmeSid, acme.authToken)) =>
      fetch(`${system.baseUrl}${path}`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      });
    const cases: Array<[Record<string, string>, string]> = [
      [{ DefaultTtl: '60' }, 'UniqueName is required'],
      [{ UniqueName: 'x', DefaultTtl: 'soon' }, 'DefaultTtl must be an integer'],
      [{ UniqueName: 'x', DefaultTtl: '-1' }, 'DefaultTtl must be between 0 and 31536000 seconds'],
      [{ UniqueName: 'x', GeoMatchLevel: 'planet' }, 'GeoMatchLevel must be one of'],
      [{ UniqueName: 'x', CallbackUrl: 'ftp://127.0.0.1/x' }, 'CallbackUrl must be an http or https URL'],
      [
        { UniqueName: 'x', InterceptCallbackUrl: 'http://169.254.169.254/latest/meta-data' },
        'InterceptCallbackUrl',
      ],
      [{ UniqueName: 'x', OutOfSessionCallbackUrl: 'http://10.1.2.3/oos' }, 'OutOfSessionCallbackUrl'],
      [{ UniqueName: 'x', InterceptFailClosed: 'maybe' }, 'InterceptFailClosed must be true or false'],
      [{ UniqueName: 'x', Colour: 'blue' }, 'unknown parameter: Colour'],
      [{ UniqueName: ' ' }, 'UniqueName must be 1 to 191 characters'],
    ];
    for (const [form, expected] of cases) {
      const res = await post('/v1/Services', form);
      const body = (await res.json()) as Json;
      expect([res.status, body.code, body.status]).toEqual([400, 20001, 400]);
      expect(String(body.message)).toContain(expected);
      expect(body.more_info).toBe('https://www.twilio.com/docs/errors/20001');
    }
    expect(await twilioClient(system.baseUrl, acmeSid, acme.authToken).proxy.v1.services.list()).toEqual([]);

    const wrong = [
      basic(acmeSid, 'not-the-token'),
      basic(`AC${'0'.repeat(32)}`, acme.authToken),
      basic(acme.authId, acme.authToken), // Plivo's Auth ID is not a Twilio username
      basic(`SK${'0'.repeat(32)}`, 'whatever'),
      'Bearer abc',
    ];
    for (const auth of wrong) {
      const res = await post('/v1/Services', { UniqueName: 'nope' }, auth);
      expect([res.status, ((await res.json()) as Json).code]).toEqual([401, 20003]);
    }
  });
});

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
