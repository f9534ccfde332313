import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.ts';
import { SERVICES } from '../../src/catalog/services.ts';
import type { Config } from '../../src/config/env.ts';
import type { SessionView } from '../../src/sessions/session-view.ts';
import { client, freshEmail, openSse, PATH, postSession, startTestApi, waitForStatus } from '../api/helpers.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { recordSession } from '../support/sessions.ts';
import { CHROMIUM, CHROMIUM_ARGS, hasChromium } from '../support/chromium.ts';

/**
 * The demo page (GET /demo) in a real browser: headless Chromium from Debian (`.ci/prepare`
 * installs it) driven by playwright-core, against a real API and workers on 127.0.0.1. A
 * prospect types an email, sees the 11 services load, and lands on the login page with the
 * token in the fragment (DEMO_LOGIN_URL) or sees the token and tenant (no DEMO_LOGIN_URL); a
 * failed session shows its error and a retry; a refused request shows the API's message.
 * Each state is saved as /tmp/demo-page-<state>.png to be looked at. Skipped, saying why,
 * only when /usr/bin/chromium is absent.
 */
if (!hasChromium)
  console.warn(`e2e: ${CHROMIUM} is missing, demo page browser test skipped (run .ci/prepare to install chromium)`);
const shot = (page: Page, state: string) => page.screenshot({ path: `/tmp/demo-page-${state}.png`, fullPage: true });

interface JwtParts {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}
function decodeJwt(token: string): JwtParts {
  const [h, c] = token.split('.');
  const part = (s: string | undefined) => JSON.parse(Buffer.from(s ?? '', 'base64url').toString('utf8')) as never;
  return { header: part(h), claims: part(c) };
}

/** A browser tab that records the page's script errors and CSP reports, and every session it POSTed. */
async function openPage(browser: Browser) {
  const context: BrowserContext = await browser.newContext({ viewport: { width: 900, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/the server responded with a status of (4\d\d)/.test(m.text()))
      problems.push(`console: ${m.text()}`);
  });
  const posted: { status: number; body: Record<string, unknown> }[] = [];
  page.on('response', (r) => {
    if (r.request().method() === 'POST' && new URL(r.url()).pathname === PATH)
      void r.json().then(
        (body: Record<string, unknown>) => posted.push({ status: r.status(), body }),
        () => posted.push({ status: r.status(), body: {} }),
      );
  });
  return { context, page, problems, posted };
}

/** The id of the element that has the focus ('' for none). */
const focusedId = (page: Page) => page.evaluate<string>('document.activeElement ? document.activeElement.id : ""');

/** Tab to the email field (the page's first control), type, press Enter: no mouse. */
async function submitByKeyboard(page: Page, email: string) {
  await page.keyboard.press('Tab');
  expect(await focusedId(page)).toBe('email');
  await page.keyboard.type(email);
  await page.keyboard.press('Enter');
}

/** The 11 services as the page shows them: name → [data-status, text]. */
async function shownServices(page: Page): Promise<Record<string, [string, string]>> {
  return page.$$eval('#services li', (lis) =>
    Object.fromEntries(
      lis.map((li) => [
        li.getAttribute('data-service') ?? '',
        [li.getAttribute('data-status') ?? '', li.querySelector('.state')?.textContent ?? ''],
      ]),
    ),
  );
}

describe.skipIf(!hasChromium)(
  `the demo page in Chromium${hasChromium ? '' : ` (skipped: ${CHROMIUM} is missing)`}`,
  () => {
    let h: Harness;
    /** With DEMO_LOGIN_URL: the page sends the prospect there. */
    let withLogin: RunningApi;
    /** Without: the page shows the token and the tenant. */
    let plain: RunningApi;
    /** MAX_SESSIONS_PER_EMAIL 1, for a 429. */
    let capped: RunningApi;
    /** SSE_MAX_PER_CLIENT 1: a second stream from 127.0.0.1 is refused. */
    let oneStream: RunningApi;
    let browser: Browser;
    let login: http.Server;
    let loginBase: string;
    /** What the login page was opened with, as its server saw it (a fragment never reaches a server). */
    const opened: { url: string; referer: string | undefined }[] = [];

    beforeAll(async () => {
      // One attempt per job: a failing service fails its session at once.
      h = await createHarness({ JOB_ATTEMPTS: '1' });
      await h.startWorkers();
      login = http.createServer((req, res) => {
        opened.push({ url: req.url ?? '', referer: req.headers.referer });
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.end('<!doctype html><title>Platform login</title><h1>Platform login</h1>');
      });
      await new Promise<void>((r) => login.listen(0, '127.0.0.1', r));
      loginBase = `http://127.0.0.1:${(login.address() as AddressInfo).port}`;
      const common = { RATE_LIMIT_PER_MINUTE: 0 } satisfies Partial<Config>;
      plain = await startTestApi(h, common);
      withLogin = await startTestApi(h, { ...common, DEMO_LOGIN_URL: `${loginBase}/welcome` });
      capped = await startTestApi(h, { ...common, MAX_SESSIONS_PER_EMAIL: 1 });
      oneStream = await startTestApi(h, { ...common, SSE_MAX_PER_CLIENT: 1 });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    });
    afterAll(async () => {
      await browser?.close();
      await new Promise<void>((r) => (login ? login.close(() => r()) : r()));
      await Promise.all([withLogin?.close(), plain?.close(), capped?.close(), oneStream?.close()]);
      await h?.close();
    });

    it('is served with the API CSP (no inline script, nothing from elsewhere), its script and style as routes of their own', async () => {
      const page = await client(plain).get('/demo?type=professional');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html; charset=utf-8/);
      const csp = page.headers['content-security-policy'] as string;
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).not.toContain("unsafe-inline'; script");
      expect(page.text).not.toMatch(/<script>|<script[^>]*>[^<]|\son[a-z]+=|style=|https?:\/\//);
      expect(page.text).toContain('data-profiles="enterprise,professional"');
      for (const [asset, type] of [
        ['/demo/demo.js', /^application\/javascript|^text\/javascript/],
        ['/demo/demo.css', /^text\/css/],
      ] as const) {
        const res = await client(plain).get(asset);
        expect(res.status, asset).toBe(200);
        expect(res.headers['content-type'], asset).toMatch(type);
        expect(res.headers['x-content-type-options'], asset).toBe('nosniff');
      }
      const wrong = await client(plain).post('/demo');
      expect(wrong.status).toBe(405);
      expect(wrong.body).toEqual({ error: { code: 'method_not_allowed', message: expect.any(String) } });
    });

    it('ready: email in, the 11 services load live, then the token and tenant are shown (no DEMO_LOGIN_URL)', async () => {
      const { context, page, problems, posted } = await openPage(browser);
      try {
        // A slow last service, so the page is seen mid-load: 10 of 11 ready, forecasting loading.
        const forecasting = h.rt.dbs.pool('forecasting');
        await forecasting.query(`
        CREATE FUNCTION slow_forecasts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(2.5); RETURN NULL; END $$;
        CREATE TRIGGER slow_forecasts BEFORE INSERT ON forecasts FOR EACH STATEMENT EXECUTE FUNCTION slow_forecasts();
        ALTER TABLE forecasts ENABLE ALWAYS TRIGGER slow_forecasts;`);
        try {
          const res = await page.goto(`${plain.url}/demo?type=professional`, { waitUntil: 'load' });
          expect(res?.status()).toBe(200);
          await expect.poll(() => page.title()).toBe('Professional demo · Bakery platform');
          expect(await page.locator('h1').innerText()).toBe('Start your Professional demo');
          await shot(page, 'form');
          const email = freshEmail('page');
          await submitByKeyboard(page, email);

          await page.locator('#progress').waitFor({ state: 'visible', timeout: 10_000 });
          await page.getByText('10 of 11 services ready…').waitFor({ timeout: 30_000 });
          const mid = await shownServices(page);
          expect(Object.keys(mid).sort()).toEqual([...SERVICES].sort());
          expect(mid.forecasting).toEqual(['loading', 'loading…']);
          for (const s of SERVICES.filter((x) => x !== 'forecasting')) expect(mid[s]?.[0], s).toBe('ready');
          expect(await page.locator('#bar').getAttribute('value')).toBe('10');
          expect(await page.locator('#summary').getAttribute('aria-live')).toBe('polite');
          await shot(page, 'loading');
        } finally {
          await forecasting.query('DROP TRIGGER slow_forecasts ON forecasts; DROP FUNCTION slow_forecasts()');
        }

        await page.locator('#ready').waitFor({ state: 'visible', timeout: 30_000 });
        expect(posted).toHaveLength(1);
        const created = posted[0]!.body as { session_id: string; tenant_id: string; access?: { token: string } };
        const view = await waitForStatus(plain, created.session_id, ['ready']);
        const done = await shownServices(page);
        for (const s of SERVICES)
          expect(done[s], s).toEqual(['ready', `${view.services[s].rows.toLocaleString('en')} rows`]);
        expect(await page.locator('#summary').innerText()).toMatch(/^All 11 services ready in \d+\.\d s\.$/);
        expect(await page.locator('#tenant-id').innerText()).toBe(view.tenant_id);
        expect(await page.locator('#session-id').innerText()).toBe(view.session_id);
        expect(await focusedId(page)).toBe('ready-title');
        if (created.access) {
          // The token the POST answered, shown for copying, and nothing in the page's URL.
          expect(await page.locator('#token').inputValue()).toBe(created.access.token);
          expect(decodeJwt(created.access.token).claims).toMatchObject({
            sid: view.session_id,
            tenant_id: view.tenant_id,
          });
          await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: plain.url });
          await page.getByRole('button', { name: 'Copy the token' }).click();
          await page.getByText('Copied.').waitFor({ timeout: 5_000 });
          expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(created.access.token);
        } else {
          expect(await page.locator('#token-box').isHidden()).toBe(true);
        }
        expect(page.url()).toBe(`${plain.url}/demo?type=professional`);
        await shot(page, 'ready');
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it('ready with DEMO_LOGIN_URL: the browser lands on the login page with the token in the fragment', async () => {
      const { context, page, problems, posted } = await openPage(browser);
      try {
        await page.goto(`${withLogin.url}/demo?type=enterprise&tier=enterprise`, { waitUntil: 'load' });
        expect(await page.locator('h1').innerText()).toBe('Start your Enterprise demo');
        const landed = page.waitForURL((u) => u.href.startsWith(loginBase), { timeout: 45_000 });
        await submitByKeyboard(page, freshEmail('login'));
        await landed;
        await page.locator('h1', { hasText: 'Platform login' }).waitFor();
        expect(posted).toHaveLength(1);
        const created = posted[0]!.body as {
          session_id: string;
          tenant_id: string;
          tenant_ids: string[];
          access?: { token: string; login_url: string };
        };
        expect(created.tenant_ids).toHaveLength(4);
        const url = new URL(page.url());
        expect(url.origin + url.pathname).toBe(`${loginBase}/welcome`);
        expect(url.search).toBe('');
        const token = new URLSearchParams(url.hash.slice(1)).get('token') ?? '';
        expect(token).toBe(created.access?.token);
        expect(page.url()).toBe(created.access?.login_url);
        const { header, claims } = decodeJwt(token);
        expect(typeof header.kid).toBe('string');
        expect(claims).toMatchObject({ sid: created.session_id, tenant_id: created.tenant_id });
        // The login page's server saw the path only: no token in a query string, no referrer to tell where from.
        expect(opened.filter((o) => o.url !== '/favicon.ico')).toEqual([{ url: '/welcome', referer: undefined }]);
        const view = (await client(withLogin).get(`${PATH}/${created.session_id}`)).body as SessionView;
        expect(view.status).toBe('ready');
        await shot(page, 'login');
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it('failed: the error of the session and a retry button, which POSTs again', async () => {
      const { context, page, problems, posted } = await openPage(browser);
      const forecasting = h.rt.dbs.pool('forecasting');
      await forecasting.query(`
      CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'forecast store is read-only'; END $$;
      CREATE TRIGGER refuse_forecasts BEFORE INSERT ON forecasts FOR EACH ROW EXECUTE FUNCTION refuse();
      -- ALWAYS: the loads run as replica (LOAD_FK_CHECKS=skip), where ordinary triggers do not fire.
      ALTER TABLE forecasts ENABLE ALWAYS TRIGGER refuse_forecasts;`);
      let dropped = false;
      const drop = async () => {
        if (dropped) return;
        dropped = true;
        await forecasting.query('DROP TRIGGER refuse_forecasts ON forecasts; DROP FUNCTION refuse()');
      };
      try {
        await page.goto(`${plain.url}/demo`, { waitUntil: 'load' });
        // No ?type=: professional.
        expect(await page.locator('h1').innerText()).toBe('Start your Professional demo');
        await submitByKeyboard(page, freshEmail('fail'));
        await page.locator('#failed').waitFor({ state: 'visible', timeout: 30_000 });
        const error = await page.locator('#failed-error').innerText();
        expect(error).toMatch(/^forecasting: .*forecast store is read-only/);
        expect(await page.locator('#failed-error').getAttribute('role')).toBe('alert');
        const shown = await shownServices(page);
        expect(shown.forecasting).toEqual(['failed', 'failed']);
        expect(shown.sales).toEqual(['removed', 'removed']);
        expect(await page.locator('#summary').innerText()).toBe(
          'Loading failed after 10 of 11 services had loaded; their data was removed.',
        );
        const retry = page.getByRole('button', { name: 'Try again' });
        expect(await retry.isVisible()).toBe(true);
        // The retry button has the focus: Enter presses it.
        expect(await focusedId(page)).toBe('retry');
        const first = posted[0]!.body as { session_id: string };
        const failedView = (await client(plain).get(`${PATH}/${first.session_id}`)).body as SessionView;
        expect(failedView.status).toBe('failed');
        expect(error).toBe(failedView.error);
        await shot(page, 'failed');

        // The store writable again, the retry is a new session that loads.
        await drop();
        await page.keyboard.press('Enter');
        await page.locator('#ready').waitFor({ state: 'visible', timeout: 30_000 });
        expect(await page.locator('#failed').isHidden()).toBe(true);
        expect(posted.map((p) => p.status)).toEqual([202, 202]);
        const second = posted[1]!.body as { session_id: string; tenant_id: string };
        expect(second.session_id).not.toBe(first.session_id);
        expect(await page.locator('#tenant-id').innerText()).toBe(second.tenant_id);
        expect((await shownServices(page)).forecasting?.[0]).toBe('ready');
        await shot(page, 'retried');
        expect(problems).toEqual([]);
      } finally {
        await drop();
        await context.close();
      }
    });

    it('the event stream refused (too many from this client): the page reads the session with GET until it ends', async () => {
      // The one stream this client may open, held on a session that stays pending (no job was enqueued for it).
      const held = await recordSession(h);
      const stream = await openSse(oneStream, `${PATH}/${held.session_id}/events`);
      expect(stream.status).toBe(200);
      const { context, page, problems, posted } = await openPage(browser);
      const reads: string[] = [];
      page.on('request', (r) => {
        const p = new URL(r.url()).pathname;
        if (p.startsWith(`${PATH}/`))
          reads.push(`${r.method()} ${p.slice(PATH.length + 1).replace(/^[0-9a-f-]{36}/, 'ID')}`);
      });
      try {
        await page.goto(`${oneStream.url}/demo`, { waitUntil: 'load' });
        await submitByKeyboard(page, freshEmail('poll'));
        await page.locator('#ready').waitFor({ state: 'visible', timeout: 30_000 });
        const created = posted[0]!.body as { session_id: string; tenant_id: string };
        expect(await page.locator('#tenant-id').innerText()).toBe(created.tenant_id);
        for (const [status] of Object.values(await shownServices(page))) expect(status).toBe('ready');
        expect(reads[0]).toBe('GET ID/events');
        expect(reads.slice(1).length).toBeGreaterThan(0);
        expect(new Set(reads.slice(1))).toEqual(new Set(['GET ID']));
        // Chromium says why the stream was dropped; nothing else went wrong.
        expect(problems.filter((p) => !/EventSource's response has a status 429/.test(p))).toEqual([]);
      } finally {
        stream.close();
        await context.close();
      }
    });

    it("4xx: a bad email and the per-email cap show the API's message, and the form stays", async () => {
      const { context, page, problems, posted } = await openPage(browser);
      try {
        await page.goto(`${capped.url}/demo?type=professional`, { waitUntil: 'load' });
        await submitByKeyboard(page, 'not-an-email');
        const error = page.locator('#form-error');
        await error.waitFor({ state: 'visible', timeout: 10_000 });
        expect(await error.innerText()).toBe('The request body is not valid.\nEmail: must be an email address');
        expect(await page.locator('#email').getAttribute('aria-invalid')).toBe('true');
        expect(await focusedId(page)).toBe('email');
        expect(await page.locator('#progress').isHidden()).toBe(true);
        expect(posted.map((p) => p.status)).toEqual([400]);
        await shot(page, 'bad-email');

        // The cap (1 live session per mailbox): this email already has one.
        const email = freshEmail('cap');
        expect((await postSession(capped, { demo_account_type: 'professional', email })).status).toBe(202);
        await page.locator('#email').fill(email);
        await page.locator('#email').press('Enter');
        await expect
          .poll(() => error.innerText(), { timeout: 10_000 })
          .toMatch(/^This email .*already has 1 live demo/);
        expect(await page.locator('#email').getAttribute('aria-invalid')).toBe('false');
        expect(posted.map((p) => p.status)).toEqual([400, 429]);
        await shot(page, 'cap');
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it('an unknown ?type= says so and links the types on offer', async () => {
      const { context, page, problems } = await openPage(browser);
      try {
        await page.goto(`${plain.url}/demo?type=bogus&tier=starter`, { waitUntil: 'load' });
        const alert = page.locator('#type-error');
        await alert.waitFor({ state: 'visible' });
        expect(await page.locator('#type-error-text').innerText()).toBe(
          'There is no demo of type "bogus". Choose one of: Enterprise, Professional.',
        );
        expect(await page.locator('#start').isHidden()).toBe(true);
        const links = await page.$$eval('#type-links a', (as) =>
          as.map((a) => [a.textContent, a.getAttribute('href')]),
        );
        expect(links).toEqual([
          ['Enterprise demo', '/demo?type=enterprise&tier=starter'],
          ['Professional demo', '/demo?type=professional&tier=starter'],
        ]);
        await shot(page, 'unknown-type');
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    });
  },
);
