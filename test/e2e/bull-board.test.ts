import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.ts';
import { SERVICES } from '../../src/catalog/services.ts';
import { SESSION_QUEUE } from '../../src/flows/jobs.ts';
import { freshEmail, postSession, startTestApi } from '../api/helpers.ts';
import { createHarness, type Harness } from '../support/harness.ts';

/**
 * Bull Board in a real browser: headless Chromium from Debian (`.ci/prepare`
 * installs it), driven by playwright-core, logs in with basic auth and lists
 * every queue. Skipped, saying why, only when /usr/bin/chromium is absent.
 */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`e2e: ${CHROMIUM} is missing, Bull Board browser test skipped (run .ci/prepare to install chromium)`);

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ADMIN = { username: 'admin', password: 'e2e-secret' };

describe.skipIf(!hasChromium)(`Bull Board in Chromium${hasChromium ? '' : ` (skipped: ${CHROMIUM} is missing)`}`, () => {
  let h: Harness;
  let api: RunningApi;
  let browser: Browser;

  beforeAll(async () => {
    h = await createHarness();
    api = await startTestApi(h, { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, RATE_LIMIT_PER_MINUTE: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await h?.close();
  });

  it('lists every service queue and the session queue once logged in', async () => {
    // A job, so the session queue shows something.
    expect((await postSession(api, { demo_account_type: 'professional', email: freshEmail() })).status).toBe(202);
    const context = await browser.newContext({ httpCredentials: ADMIN });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const res = await page.goto(`${api.url}/admin/queues`, { waitUntil: 'domcontentloaded' });
      expect(res?.status()).toBe(200);
      for (const name of [...SERVICES, SESSION_QUEUE]) {
        await page.getByText(name, { exact: true }).first().waitFor({ state: 'visible', timeout: 20_000 });
      }
      const text = await page.locator('body').innerText();
      for (const name of [...SERVICES, SESSION_QUEUE]) expect(text).toContain(name);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('is refused without credentials, and with wrong ones', async () => {
    for (const httpCredentials of [undefined, { username: ADMIN.username, password: 'wrong' }]) {
      const context = await browser.newContext(httpCredentials ? { httpCredentials } : {});
      try {
        // Headless Chromium either shows the 401 or gives up on it (net::ERR_INVALID_AUTH_CREDENTIALS) ...
        const page = await context.newPage();
        const shown = await page.goto(`${api.url}/admin/queues`).catch((err: Error) => err);
        if (shown instanceof Error) expect(shown.message).toMatch(/ERR_INVALID_AUTH_CREDENTIALS/);
        else {
          expect(shown?.status()).toBe(401);
          expect(await page.locator('body').innerText()).not.toContain('forecasting');
        }
        // ... so the answer itself is read through the context's request API.
        const res = await context.request.get(`${api.url}/admin/queues`);
        expect(res.status()).toBe(401);
        expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
      } finally {
        await context.close();
      }
    }
  });
});
