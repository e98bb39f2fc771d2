import { createAccount, type TestAccount } from './support/accounts';
import { E2eSystem } from './support/e2e-system';
import { plivoClient } from './support/plivo-sdk';

interface SdkNumbers {
  addOwnNumber(
    numbers: string,
    carrier: string,
    region: string,
    options?: object,
  ): Promise<{ message: string }>;
  list(params: object): Promise<Array<{ number: string }> & { meta: Record<string, unknown> }>;
  get(number: string): Promise<Record<string, unknown>>;
  update(number: string, params: object): Promise<{ message: string }>;
  unrent(number: string): Promise<boolean>;
}

describe('Number API (Plivo-compatible) through the gateway', () => {
  let system: E2eSystem;
  let acme: TestAccount;
  let rival: TestAccount;

  beforeAll(async () => {
    system = await E2eSystem.start();
    acme = await createAccount(system, 'acme');
    rival = await createAccount(system, 'rival');
  });

  afterAll(async () => {
    await system?.stop();
  });

  it('works with Plivo’s own Node SDK: add, list, get, update, delete', async () => {
    // The SDK's bundled typings lag its code; this is the surface it really has.
    const client = plivoClient(system.baseUrl, acme.authId, acme.authToken) as unknown as {
      numbers: SdkNumbers;
    };
    const added = await client.numbers.addOwnNumber(
      '14155550100,14155550101,442071838750',
      'carrier-1',
      'west',
    );
    expect(added.message).toBe('changed');

    // The SDK camel-cases what it returns (total_count → totalCount).
    const listed = (await client.numbers.list({ limit: 2, offset: 0 })) as unknown as Array<{
      number: string;
    }> & {
      meta: Record<string, unknown>;
    };
    expect(listed.map((n) => n.number)).toEqual(['14155550100', '14155550101']);
    expect(listed.meta).toMatchObject({ limit: 2, offset: 0, totalCount: 3, previous: null });
    expect(listed.meta.next).toBe(`/v1/Account/${acme.authId}/Number/?limit=2&offset=2`);
    const raw = (await (await acme.api('/Number/?limit=2')).json()) as { meta: Record<string, unknown> };
    expect(raw.meta).toEqual({
      limit: 2,
      offset: 0,
      total_count: 3,
      next: `/v1/Account/${acme.authId}/Number/?limit=2&offset=2`,
      previous: null,
    });

    // Plivo's filters as the SDK sends them: `type` (the number type) and `services`.
    const locals = (await client.numbers.list({ type: 'local', services: 'voice,sms' })) as unknown as Array<{
      number: string;
    }>;
    expect(locals.map((n) => n.number).sort()).toEqual(['14155550100', '14155550101', '442071838750']);
    expect(await client.numbers.list({ type: 'tollfree' })).toHaveLength(0);
    const voiceOnly = await acme.api('/Number/14155550101/', { body: { sms_enabled: false } });
    expect(voiceOnly.status).toBe(202);
    const texting = (await (await acme.api('/Number/?services=sms')).json()) as {
      objects: Array<{ number: string }>;
    };
    expect(texting.objects.map((n) => n.number).sort()).toEqual(['14155550100', '442071838750']);
    const calling = (await (await acme.api('/Number/?services=voice')).json()) as { objects: unknown[] };
    expect(calling.objects).toHaveLength(3);
    const badServices = await acme.api('/Number/?services=fax');
    expect(badServices.status).toBe(400);
    expect(((await badServices.json()) as { error: string }).error).toMatch(/^services must be/);
    const twoTypes = await acme.api('/Number/?type=local&number_type=tollfree');
    expect(twoTypes.status).toBe(400);
    expect(((await twoTypes.json()) as { error: string }).error).toMatch(/^type and number_type/);
    // null unsets what can be unset, and names what cannot.
    const cleared = await acme.api('/Number/14155550100/', { body: { fallback_message: null } });
    expect(cleared.status).toBe(202);
    const refused = await acme.api('/Number/14155550100/', { body: { voice_enabled: null } });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toBe(
      'voice_enabled cannot be null: leave it out to keep its value',
    );

    const one = await client.numbers.get('+442071838750');
    expect(one).toMatchObject({
      number: '442071838750',
      country: 'GB',
      voiceEnabled: true,
      smsEnabled: true,
      region: 'west',
    });

    const updated = await client.numbers.update('14155550100', { alias: 'front desk' });
    expect(updated.message).toBe('changed');
    expect((await client.numbers.get('14155550100')).alias).toBe('front desk');

    await client.numbers.unrent('14155550101');
    await expect(client.numbers.get('14155550101')).rejects.toThrow();
  });

  it('never shows one account’s numbers to another: 404, not a leak', async () => {
    const res = await rival.api('/Number/14155550100/');
    expect(res.status).toBe(404);
    const body = (await res.json()) as { api_id: string; error: string };
    expect(body.error).toBe('number +14155550100 not found');
    const list = (await (await rival.api('/Number/')).json()) as { meta: { total_count: number } };
    expect(list.meta.total_count).toBe(0);
    const taken = await rival.api('/Number/', { body: { numbers: '14155550100' } });
    expect(taken.status).toBe(409);
  });

  it('keeps provider webhook credentials write-only', async () => {
    const res = await acme.api('/Number/', {
      form: {
        numbers: '14155550102',
        provider: 'twilio',
        provider_auth_id: 'AC123',
        provider_auth_token: 'twilio-token-1234',
      },
    });
    expect(res.status).toBe(202);
    const text = await (await acme.api('/Number/14155550102/')).text();
    expect(text).not.toContain('twilio-token-1234');
    expect(JSON.parse(text)).toMatchObject({ provider: 'twilio', webhook_credentials_set: true });
  });

  it.each([
    [{ numbers: 'not-a-number' }, 400, /numbers\[0\] \(not-a-number\)/],
    [{ numbers: '12' }, 400, /numbers\[0\] \(12\) must be digits/],
    [{ numbers: '14155550103', provider: 'vonage' }, 400, /provider must be plivo or twilio/],
    [{ numbers: '14155550103', provider_auth_token: 'abcdefgh1' }, 400, /^provider_auth_id /],
    // It becomes a path segment of the provider's API: nothing that could lead elsewhere there.
    [
      { numbers: '14155550103', provider: 'plivo', provider_auth_id: '..', provider_auth_token: 'abcdefgh1' },
      400,
      /^provider_auth_id must be 1 to 64 letters, digits, "-" or "_"/,
    ],
    [{ numbers: '14155550103', subaccount: 'SA000000000000000000' }, 400, /subaccount/],
  ])('rejects bad input %j with %i', async (body, status, message) => {
    const res = await acme.api('/Number/', { body });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: string }).error).toMatch(message);
  });

  it('says what a number carries, and refuses a capability that is not a boolean, naming it', async () => {
    const bad = await acme.api('/Number/', { body: { numbers: '14155550160', sms_enabled: 'sometimes' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^sms_enabled/);
    expect((await acme.api('/Number/14155550160/')).status).toBe(404);

    const added = await acme.api('/Number/', { body: { numbers: '14155550160', voice_enabled: false } });
    expect(added.status).toBe(202);
    expect(await (await acme.api('/Number/14155550160/')).json()).toMatchObject({
      voice_enabled: false,
      sms_enabled: true,
    });
    const updated = await acme.api('/Number/14155550160/', {
      body: { voice_enabled: true, sms_enabled: false },
    });
    expect(updated.status).toBe(202);
    expect(await (await acme.api('/Number/14155550160/')).json()).toMatchObject({
      voice_enabled: true,
      sms_enabled: false,
    });
    await acme.api('/Number/14155550160/', { method: 'DELETE' });
  });

  it('rejects out-of-range list parameters', async () => {
    const res = await acme.api('/Number/?limit=50');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('limit must be between 1 and 20');
  });

  it('reports pool utilization', async () => {
    const res = await acme.api('/Masking/Utilization/');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ numbers_total: 3, numbers_in_use: 0, delta: 0 });
  });
});
