import { TelephonySimulator } from '@maskline/telephony-simulator';
import { expectEventually } from '@maskline/testing';
import { createSubaccount, type TestAccount } from './support/accounts';
import { CallbackReceiver } from './support/callback-receiver';
import { consoleSignIn, type ConsoleClient } from './support/console-client';
import { E2eSystem } from './support/e2e-system';
import { sessionWithPinCall } from './support/pin-call-session';
import { accountsWithNumbers, providerAccounts } from './support/provider-accounts';

type Json = Record<string, unknown>;

const PROVIDERS = providerAccounts({ plivo: ['+14155550401', '+14155550402'], twilio: ['+14155550403'] });
const RIDER = '+16285550901';
const DRIVER = '+16285550902';
const SPARE = '+16285550903';

/**
 * The read endpoints the console is built on, through the whole system: a session's PIN entries,
 * PIN security, callback statistics and the pool's minute-by-minute history, each seen only by
 * its own account, over a console cookie as over Basic credentials.
 */
describe('console read API (whole system)', () => {
  let system: E2eSystem;
  let outside: CallbackReceiver;
  let acme: TestAccount;
  let sub: TestAccount;
  let console: ConsoleClient;
  let session: Json;
  const typed: string[] = [];

  beforeAll(async () => {
    outside = await CallbackReceiver.start();
    outside.on('/cb/ok', () => ({ status: 200 }));
    outside.on('/cb/broken', () => ({ status: 410 }));
    system = await E2eSystem.start(
      {},
      (service): Record<string, string> =>
        service === 'number-pool'
          ? { UTILIZATION_ROLLUP_INTERVAL_MS: '1000' }
          : service === 'callback-dispatcher'
            ? { CALLBACK_RETRY_SCHEDULE_SECONDS: '1,1', CALLBACK_TIMEOUT_MS: '2000' }
            : {},
    );
    acme = (await accountsWithNumbers(system, PROVIDERS, 'console')).plivo;
    sub = await createSubaccount(system, acme, 'console-sub');
    console = await consoleSignIn(system.baseUrl, { auth_id: acme.authId, auth_token: acme.authToken });

    const made = await sessionWithPinCall(system.baseUrl, acme, PROVIDERS.plivo, {
      first: RIDER,
      second: DRIVER,
      spare: SPARE,
      callbackUrl: `${outside.baseUrl}/cb/ok`,
    });
    session = made.session;
    typed.push(made.pin, made.wrong);
    const report = made.report;
    expect(report.dials.map((d) => d.number)).toEqual([DRIVER]);
  });

  afterAll(async () => {
    await system?.stop();
    await outside?.stop();
  });

  /** The create response names the number in E.164; Plivo's session objects without the "+". */
  const plivoNumber = (n: unknown) => String(n).replace(/^\+/, '');
  const path = (p: string) => `/v1/Account/${acme.authId}${p}`;
  const json = async (res: Response | Promise<Response>) => {
    const r = await res;
    return { status: r.status, body: (await r.json()) as Json };
  };

  it("shows a session's PIN entries, the wrong one and the right one, never the digits and never the caller in full", async () => {
    let attempts: Json[] = [];
    await expectEventually(async () => {
      const { status, body } = await json(
        console.get(path(`/Masking/Session/${String(session.session_uuid)}/PinAttempts/`)),
      );
      expect(status).toBe(200);
      attempts = body.objects as Json[];
      expect(attempts.map((a) => [a.outcome, a.attempt])).toEqual([
        ['failed', 1],
        ['success', 2],
      ]);
    });
    const text = JSON.stringify(attempts);
    for (const digits of typed) expect(text).not.toContain(digits);
    expect(text).not.toContain(SPARE.slice(1));
    expect(attempts[0]).toMatchObject({
      virtual_number: plivoNumber(session.virtual_number),
      caller: expect.stringMatching(/0903$/),
      call_uuid: attempts[1].call_uuid,
    });
  });

  it('counts PIN failures by hour, number and caller for the account', async () => {
    await expectEventually(async () => {
      const { status, body } = await json(console.get(path('/Masking/PinSecurity/?hours=24')));
      expect(status).toBe(200);
      const buckets = body.buckets as Json[];
      expect(buckets).toHaveLength(24);
      expect(buckets.reduce((n, b) => n + Number(b.failures), 0)).toBe(1);
      expect(buckets.reduce((n, b) => n + Number(b.successes), 0)).toBe(1);
      expect(body.by_number).toEqual([
        { virtual_number: plivoNumber(session.virtual_number), failures: 1, lockouts: 0 },
      ]);
      expect((body.by_caller as Json[])[0]).toMatchObject({
        caller: expect.stringMatching(/0903$/),
        failures: 1,
      });
    });
    const bad = await json(console.get(path('/Masking/PinSecurity/?hours=500')));
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/hours must be between 1 and 168/);
  });

  it('reports callback outcomes and names the endpoint that fails', async () => {
    const res = await acme.api('/Masking/Session/', {
      body: {
        first_party: '+16285550911',
        second_party: '+16285550912',
        callback_url: `${outside.baseUrl}/cb/broken`,
      },
    });
    const broken = (await res.json()) as Json;
    const sim = new TelephonySimulator(system.baseUrl, 'plivo', PROVIDERS.plivo);
    await sim.call({
      from: '+16285550911',
      to: `+${plivoNumber(broken.virtual_number)}`,
      callee: { answers: true, talkSeconds: 5 },
    });
    await expectEventually(
      async () => {
        const { status, body } = await json(console.get(path('/Masking/Callbacks/Stats/')));
        expect(status).toBe(200);
        const failing = body.failing_endpoints as Json[];
        expect(failing[0]).toMatchObject({ url: `${outside.baseUrl}/cb/broken`, last_status_code: 410 });
        expect(body.success_rate).toBeGreaterThan(0);
        expect(body.success_rate).toBeLessThan(1);
        const buckets = body.buckets as Json[];
        expect(buckets.at(-1)).toMatchObject({
          delivered: expect.any(Number),
          p95_latency_ms: expect.any(Number),
        });
      },
      { timeoutMs: 15_000 },
    );
  });

  it("keeps the pool's history minute by minute, with the present as its last point, and counts exhaustion", async () => {
    // Two numbers: a third session of the same rider finds none free of them.
    const made: Json[] = [];
    for (const driver of ['+16285550921', '+16285550922', '+16285550923']) {
      const r = await acme.api('/Masking/Session/', {
        body: { first_party: '+16285550920', second_party: driver },
      });
      made.push({ status: r.status, ...((await r.json()) as Json) });
    }
    expect(made.map((m) => m.status)).toEqual([201, 201, expect.any(Number)]);
    expect(made[2].status).toBeGreaterThanOrEqual(400);
    await expectEventually(
      async () => {
        const { status, body } = await json(console.get(path('/Masking/Utilization/History/')));
        expect(status).toBe(200);
        const points = body.points as Json[];
        expect(points.length).toBeGreaterThanOrEqual(2);
        expect(points.at(-1)).toMatchObject({ numbers_total: 2, numbers_in_use: 2 });
        // Sampled once a minute from the numbers and live holds (a sample may predate a number).
        expect(points.every((p) => Number(p.numbers_total) <= 2 && Number(p.numbers_in_use) <= 2)).toBe(true);
        expect(points.map((p) => p.time)).toEqual([...points.map((p) => p.time)].sort());
        expect((body.exhaustions as Json[]).reduce((n, e) => n + Number(e.count), 0)).toBe(1);
      },
      { timeoutMs: 20_000 },
    );
    const now = await json(console.get(path('/Masking/Utilization/')));
    expect(now.body.numbers_by_country).toEqual([{ country: 'US', numbers_total: 2, numbers_in_use: 2 }]);
    expect((await json(console.get(path('/Masking/Utilization/History/?hours=25')))).status).toBe(400);
  });

  it("finds a session by either party, and a subaccount's console sees none of its parent's data", async () => {
    const byParty = await json(console.get(path(`/Masking/Session/?party=${encodeURIComponent(DRIVER)}`)));
    expect(byParty.status).toBe(200);
    const found = (byParty.body.response as Json).objects as Json[];
    expect(found.map((s) => s.session_uuid)).toEqual([session.session_uuid]);

    const subConsole = await consoleSignIn(system.baseUrl, {
      auth_id: sub.authId,
      auth_token: sub.authToken,
    });
    const subPath = (p: string) => `/v1/Account/${sub.authId}${p}`;
    const id = String(session.session_uuid);
    expect((await subConsole.get(subPath(`/Masking/Session/${id}/`))).status).toBe(404);
    expect((await subConsole.get(subPath(`/Masking/Session/${id}/PinAttempts/`))).status).toBe(404);
    expect((await subConsole.get(subPath(`/Masking/Session/${id}/Callbacks/`))).status).toBe(404);
    const list = await json(subConsole.get(subPath(`/Masking/Session/?party=${encodeURIComponent(DRIVER)}`)));
    expect((list.body.response as Json).objects).toEqual([]);
    const stats = await json(subConsole.get(subPath('/Masking/PinSecurity/')));
    expect(stats.status).toBe(403);
    expect(stats.body.error).toMatch(/main account/);
    expect((await subConsole.get(subPath('/Masking/Callbacks/Stats/'))).status).toBe(403);
    const pool = await json(subConsole.get(subPath('/Masking/Utilization/History/')));
    expect((pool.body.points as Json[]).at(-1)).toMatchObject({ numbers_total: 0, numbers_in_use: 0 });
    // Nor can it use its cookie on its parent's paths.
    expect((await subConsole.get(path(`/Masking/Session/${id}/`))).status).toBe(401);
  });
});
