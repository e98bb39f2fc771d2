/**
 * npm run bench:console — how fast the operator console loads on localhost, in Debian's headless
 * Chromium against the whole system, each load in a fresh browser context (nothing cached):
 *
 *   - first load: from navigation to the sign-in form ready for input;
 *   - signed in: from navigation (with a console session) to the sessions table showing data;
 *
 * next to a floor measured in the same run: the same browser loading the smallest file the gateway
 * serves (the console's favicon) in a fresh context. The issue's goal is a first load under 1 s.
 *
 *   --loads N   loads of each kind (default 20)
 */
import { CHROMIUM_PATH, launchBrowser } from '../e2e/support/console-browser';
import { log, pct, startBenchSystem } from './support/bench-system';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

async function main() {
  const loads = arg('loads', 20);
  const bench = await startBenchSystem();
  const browser = await launchBrowser();
  try {
    const res = await fetch(`${bench.baseUrl}/admin/v1/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-operator-key': bench.env.OPERATOR_KEY },
      body: JSON.stringify({ name: 'console-bench' }),
    });
    const account = (await res.json()) as { auth_id: string; auth_token: string };
    const console = `${bench.baseUrl}/console/`;

    /** ms from navigation to `ready` resolving, in a fresh context (with `cookie` when given). */
    async function timeLoad(
      url: string,
      ready: (p: import('playwright-core').Page) => Promise<unknown>,
      cookie?: string,
    ) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      if (cookie) {
        const [name, value] = cookie.split('=');
        await context.addCookies([{ name, value, url: bench.baseUrl }]);
      }
      const page = await context.newPage();
      const t0 = performance.now();
      await page.goto(url);
      await ready(page);
      const ms = performance.now() - t0;
      await context.close();
      return ms;
    }

    const signIn = async () => {
      const r = await fetch(`${bench.baseUrl}/console/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ auth_id: account.auth_id, auth_token: account.auth_token }),
      });
      return (r.headers.get('set-cookie') ?? '').split(';')[0];
    };
    // A session to find, so the signed-in page has a row to show.
    await fetch(`${bench.baseUrl}/v1/Account/${account.auth_id}/Number/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${account.auth_id}:${account.auth_token}`).toString('base64')}`,
      },
      body: JSON.stringify({ numbers: '14155550901' }),
    });
    await fetch(`${bench.baseUrl}/v1/Account/${account.auth_id}/Masking/Session/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${account.auth_id}:${account.auth_token}`).toString('base64')}`,
      },
      body: JSON.stringify({ first_party: '+16285550001', second_party: '+16285550002' }),
    });

    const floor: number[] = [];
    const first: number[] = [];
    const signedIn: number[] = [];
    // One warm-up of each, not counted (the first process start of the browser's renderer).
    await timeLoad(`${console}favicon.svg`, (p) => p.waitForLoadState('load'));
    for (let i = 0; i < loads; i++) {
      floor.push(await timeLoad(`${console}favicon.svg`, (p) => p.waitForLoadState('load')));
      first.push(await timeLoad(console, (p) => p.getByLabel('Auth ID').waitFor()));
      const cookie = await signIn();
      signedIn.push(
        await timeLoad(
          `${console}#/sessions`,
          (p) => p.getByRole('table', { name: 'Sessions' }).getByRole('link').first().waitFor(),
          cookie,
        ),
      );
    }
    const row = (name: string, v: number[]) =>
      log(
        `${name.padEnd(34)} p50 ${pct(v, 50).toFixed(0).padStart(5)} ms  p95 ${pct(v, 95).toFixed(0).padStart(5)} ms  ` +
          `p50 ÷ floor ${(pct(v, 50) / pct(floor, 50)).toFixed(1)}`,
      );
    log(`\nconsole load in ${CHROMIUM_PATH}, headless, fresh context each, ${loads} loads of each:\n`);
    row('floor: a static file (favicon)', floor);
    row('first load: sign-in form ready', first);
    row('signed in: sessions table shown', signedIn);
    log(`\ngoal: first load under 1000 ms; p95 was ${pct(first, 95).toFixed(0)} ms\n`);
  } finally {
    await browser.close();
    await bench.stop();
  }
}

main().catch((err) => {
  log(String(err instanceof Error ? err.stack : err));
  process.exit(1);
});
