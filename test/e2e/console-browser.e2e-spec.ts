import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expectEventually } from '@maskline/testing';
import { createSubaccount, type TestAccount } from './support/accounts';
import { CallbackReceiver } from './support/callback-receiver';
import { launchBrowser, screenshot } from './support/console-browser';
import { LOW_CONTRAST_SCRIPT } from './support/contrast-check';
import { E2eSystem } from './support/e2e-system';
import { sessionWithPinCall } from './support/pin-call-session';
import { accountsWithNumbers, providerAccounts } from './support/provider-accounts';

type Json = Record<string, unknown>;

const PROVIDERS = providerAccounts({ plivo: ['+14155550501', '+14155550502'], twilio: ['+14155550503'] });
const RIDER = '+16285550801';
const DRIVER = '+16285550802';
const SPARE = '+16285550803';

/**
 * The operator console in Debian's Chromium, headless, against the whole system: what a support
 * agent does, from signing in to signing out, each step saved as a screenshot.
 */
describe('operator console in a real browser', () => {
  let system: E2eSystem;
  let outside: CallbackReceiver;
  let acme: TestAccount;
  let sub: TestAccount;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let session: Json;
  let pin = '';
  let accept = false;

  beforeAll(async () => {
    outside = await CallbackReceiver.start();
    // The customer's endpoint refuses callbacks until it is fixed: they land in dead letters.
    outside.on('/cb/console', () => ({ status: accept ? 200 : 400 }));
    system = await E2eSystem.start(
      {},
      (service): Record<string, string> =>
        service === 'number-pool' ? { UTILIZATION_ROLLUP_INTERVAL_MS: '1000' } : {},
    );
    acme = (await accountsWithNumbers(system, PROVIDERS, 'console-ui')).plivo;
    sub = await createSubaccount(system, acme, 'console-ui-sub');
    ({ session, pin } = await sessionWithPinCall(system.baseUrl, acme, PROVIDERS.plivo, {
      first: RIDER,
      second: DRIVER,
      spare: SPARE,
      callbackUrl: `${outside.baseUrl}/cb/console`,
    }));
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
    await outside?.stop();
  });

  const consoleUrl = () => `${system.baseUrl}/console/`;

  async function signIn(p: Page, account: TestAccount): Promise<void> {
    await p.goto(consoleUrl());
    await p.getByLabel('Auth ID').fill(account.authId);
    await p.getByLabel('Auth Token').fill(account.authToken);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('navigation', { name: 'Main' }).waitFor();
  }

  it('signs in with an Auth ID and Auth Token, keeping no credential where a script could read it', async () => {
    await signIn(page, acme);
    await expectEventually(async () =>
      expect(await page.getByRole('banner').innerText()).toContain(acme.authId),
    );
    const stored = await page.evaluate<string>(
      'JSON.stringify({ ...localStorage, ...sessionStorage }) + document.cookie',
    );
    expect(stored).not.toContain(acme.authToken);
    expect(stored).not.toContain('maskline_console'); // the session cookie is HttpOnly
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'maskline_console')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
    });
    await screenshot(page, '01-signed-in');
  });

  it('finds the session created through the API by a party', async () => {
    await page.getByRole('link', { name: 'Sessions' }).click();
    await page.getByLabel('Party').fill(DRIVER);
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.getByRole('row').filter({ hasText: String(session.session_uuid) });
    await row.waitFor();
    expect(await row.innerText()).toContain(DRIVER.slice(2));
    await screenshot(page, '02-sessions');
  });

  it("opens the session's timeline and sees the PIN attempts and the call, never the PIN", async () => {
    await page.getByRole('link', { name: String(session.session_uuid) }).click();
    const timeline = page.getByRole('list', { name: 'Timeline' });
    await timeline.waitFor();
    await expectEventually(async () => {
      const text = await timeline.innerText();
      expect(text).toMatch(/PIN attempt[^\n]*failed/);
      expect(text).toMatch(/PIN attempt[^\n]*success/);
      expect(text).toContain('Call');
      expect(text).toContain('Callback');
    });
    expect(await page.locator('body').innerText()).not.toContain(pin);
    await screenshot(page, '03-session-timeline');
  });

  it('replays a dead letter once the endpoint is fixed', async () => {
    await page.getByRole('link', { name: 'Callbacks' }).click();
    const table = page.getByRole('table', { name: 'Dead letters' });
    const row = table
      .getByRole('row')
      .filter({ hasText: String(session.session_uuid) })
      .first();
    await row.waitFor();
    const before = outside.for('/cb/console').length;
    accept = true;
    await row.getByRole('button', { name: 'Replay' }).click();
    await page.getByText('Replay requested').waitFor();
    await expectEventually(() => expect(outside.for('/cb/console').length).toBeGreaterThan(before));
    await screenshot(page, '04-callbacks');
  });

  it('shows the pool chart with the real numbers', async () => {
    await page.getByRole('link', { name: 'Pool' }).click();
    const figure = page.getByRole('figure', { name: 'Numbers in use, last 24 hours' });
    await figure.waitFor();
    await figure.locator('canvas').first().waitFor();
    const countries = page.getByRole('table', { name: 'Numbers per country' });
    await expectEventually(async () => expect(await countries.innerText()).toMatch(/US\s+2\s+1/));
    await screenshot(page, '05-pool');
    await page.getByRole('link', { name: 'PIN security' }).click();
    await page.getByRole('table', { name: 'By number' }).waitFor();
    await screenshot(page, '06-pin-security');
  });

  it("does not show a subaccount its parent's sessions", async () => {
    const other = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const p = await other.newPage();
    await signIn(p, sub);
    // PIN security covers the whole main account: a subaccount is not offered it.
    expect(await p.getByRole('navigation', { name: 'Main' }).innerText()).not.toContain('PIN security');
    await p.getByRole('link', { name: 'Sessions' }).click();
    await p.getByLabel('Party').fill(DRIVER);
    await p.getByRole('button', { name: 'Search' }).click();
    await p.getByText('No sessions match').waitFor();
    await p.goto(`${consoleUrl()}#/sessions/${String(session.session_uuid)}`);
    await p.getByRole('alert').first().waitFor();
    expect(await p.getByRole('alert').first().innerText()).toMatch(/not found/i);
    expect(await p.locator('body').innerText()).not.toContain(RIDER.slice(2));
    await screenshot(p, '07-subaccount-phone-width');
    await other.close();
  });

  it('is usable from the keyboard alone, with a visible focus, and nothing shifts as data arrives', async () => {
    const keys = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await keys.newPage();
    // Every layout shift the page makes, as the browser measures it (Cumulative Layout Shift).
    await p.addInitScript(
      'window.__shift = 0; new PerformanceObserver((l) => { for (const e of l.getEntries()) if (!e.hadRecentInput) window.__shift += e.value; }).observe({ type: "layout-shift", buffered: true });',
    );
    await p.goto(consoleUrl());
    await p.getByLabel('Auth ID').waitFor();
    expect(await p.evaluate<unknown[]>(LOW_CONTRAST_SCRIPT)).toEqual([]);
    const focused = () =>
      p.evaluate<{ label: string; outline: string }>(
        '(() => { const e = document.activeElement; const s = getComputedStyle(e); return { label: (e.labels && e.labels[0] ? e.labels[0].textContent : e.textContent || "").trim(), outline: s.outlineStyle + " " + s.outlineWidth }; })()',
      );
    // Tab to the Auth ID field, type, tab on, type, Enter.
    for (let i = 0; i < 10 && (await focused()).label !== 'Auth ID'; i++) await p.keyboard.press('Tab');
    expect((await focused()).label).toBe('Auth ID');
    expect((await focused()).outline).toMatch(/^solid [1-9]/);
    await p.keyboard.type(acme.authId);
    await p.keyboard.press('Tab');
    expect((await focused()).label).toBe('Auth Token');
    await p.keyboard.type(acme.authToken);
    await p.keyboard.press('Enter');
    await p.getByRole('navigation', { name: 'Main' }).waitFor();
    // To the Pool by keyboard: focus the link, Enter.
    const nav = p.getByRole('navigation', { name: 'Main' });
    for (let i = 0; i < 15 && (await focused()).label !== 'Pool'; i++) await p.keyboard.press('Tab');
    expect((await focused()).label).toBe('Pool');
    expect((await focused()).outline).toMatch(/^solid [1-9]/);
    await p.keyboard.press('Enter');
    await p.getByRole('table', { name: 'Numbers per country' }).waitFor();
    await p
      .getByRole('figure', { name: 'Numbers in use, last 24 hours' })
      .locator('canvas')
      .first()
      .waitFor();
    expect(await nav.getByRole('link', { name: 'Pool' }).getAttribute('aria-current')).toBe('page');
    // Google's "good" threshold is 0.1; placeholders of the final size keep it at about 0.
    expect(await p.evaluate<number>('window.__shift')).toBeLessThan(0.05);
    // Every text on the page reads against its background (WCAG 2 AA), here and on the sign-in page.
    expect(await p.evaluate<unknown[]>(LOW_CONTRAST_SCRIPT)).toEqual([]);
    await p.getByRole('link', { name: 'Callbacks' }).click();
    await p.getByRole('table', { name: 'Dead letters' }).waitFor();
    expect(await p.evaluate<unknown[]>(LOW_CONTRAST_SCRIPT)).toEqual([]);
    await keys.close();
  });

  it('lets the operator see the system and the accounts, and nothing of an account', async () => {
    const ops = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await ops.newPage();
    await p.goto(consoleUrl());
    await p.getByLabel('Operator').check();
    await p.getByLabel('Operator key').fill(system.operatorKey);
    await p.getByRole('button', { name: 'Sign in' }).click();
    const services = p.getByRole('table', { name: 'Services' });
    await services.waitFor();
    for (const name of [
      'gateway',
      'session-service',
      'number-pool',
      'pin-auth',
      'call-router',
      'callback-dispatcher',
    ])
      expect(await services.innerText()).toContain(name);
    await p.getByRole('table', { name: 'Consumers' }).waitFor();
    await screenshot(p, '09-system');
    await p.getByRole('link', { name: 'Accounts' }).click();
    await expectEventually(async () =>
      expect(await p.getByRole('table', { name: 'Accounts' }).innerText()).toContain(acme.authId),
    );
    await screenshot(p, '10-accounts');
    expect(await p.getByRole('navigation', { name: 'Main' }).innerText()).not.toContain('Sessions');
    await ops.close();
  });

  it('shows the API docs under a policy that lets Swagger UI run and nothing else', async () => {
    const docs = await context.newPage();
    const refused: string[] = [];
    docs.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) refused.push(m.text());
    });
    const res = await docs.goto(`${system.baseUrl}/docs`);
    expect(res?.headers()['content-security-policy']).toMatch(/script-src 'self';.*frame-ancestors 'none'/);
    await expect(docs.locator('.swagger-ui .info .title').textContent()).resolves.toMatch(/Maskline/);
    await docs.locator('.opblock').first().waitFor();
    expect(await docs.locator('.opblock').count()).toBeGreaterThan(10);
    await screenshot(docs, '11-api-docs');
    expect(refused).toEqual([]);
    await docs.close();
  });

  it('signs out, and the cookie it had opens nothing afterwards', async () => {
    const cookie = (await context.cookies()).find((c) => c.name === 'maskline_console');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    await screenshot(page, '08-signed-out');
    const replayed = await fetch(`${system.baseUrl}/console/api/session`, {
      headers: { cookie: `maskline_console=${cookie?.value}` },
    });
    expect(replayed.status).toBe(401);
    await page.goto(`${consoleUrl()}#/sessions`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  });
});
