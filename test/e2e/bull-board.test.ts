import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.ts';
import { SERVICES } from '../../src/catalog/services.ts';
import { SESSION_QUEUE } from '../../src/flows/jobs.ts';
import { freshEmail, postSession, startTestApi } from '../api/helpers.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { CHROMIUM, CHROMIUM_ARGS, hasChromium } from '../support/chromium.ts';

/**
 * Bull Board in a real browser: headless Chromium from Debian (`.ci/prepare`
 * installs it), driven by playwright-core, logs in with basic auth and lists
 * every queue, read-only by default; a page of another site cannot use the
 * browser's login to change anything. Skipped, saying why, only when
 * /usr/bin/chromium is absent.
 */
if (!hasChromium)
  console.warn(`e2e: ${CHROMIUM} is missing, Bull Board browser test skipped (run .ci/prepare to install chromium)`);
const ADMIN = { username: 'admin', password: 'e2e-secret' };
/** A service queue no worker takes from here: a delayed job stays delayed unless the board promotes it. */
const QUEUE = SERVICES[SERVICES.length - 1]!;

describe.skipIf(!hasChromium)(
  `Bull Board in Chromium${hasChromium ? '' : ` (skipped: ${CHROMIUM} is missing)`}`,
  () => {
    let h: Harness;
    let api: RunningApi;
    let writable: RunningApi;
    let browser: Browser;
    let queue: Queue;

    beforeAll(async () => {
      h = await createHarness();
      api = await startTestApi(h, {
        ADMIN_USER: ADMIN.username,
        ADMIN_PASSWORD: ADMIN.password,
        RATE_LIMIT_PER_MINUTE: 0,
      });
      writable = await startTestApi(h, {
        ADMIN_USER: ADMIN.username,
        ADMIN_PASSWORD: ADMIN.password,
        RATE_LIMIT_PER_MINUTE: 0,
        BOARD_READ_ONLY: false,
      });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
      queue = new Queue(QUEUE, { connection: h.rt.redis, prefix: h.cfg.QUEUE_PREFIX });
    });
    afterAll(async () => {
      await browser?.close();
      await queue?.close();
      await Promise.all([api?.close(), writable?.close()]);
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

    it('shows the queues read-only by default: no button that changes a job, and a change asked from its own page is refused', async () => {
      await queue.add('probe', { probe: 'read-only' }, { jobId: 'e2e-delayed-ro', delay: 3_600_000 });
      const context = await browser.newContext({ httpCredentials: ADMIN });
      try {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        const res = await page.goto(`${api.url}/admin/queues/queue/${QUEUE}?status=delayed`, {
          waitUntil: 'domcontentloaded',
        });
        expect(res?.status()).toBe(200);
        await page.getByText('e2e-delayed-ro').first().waitFor({ state: 'visible', timeout: 20_000 });
        const buttons = (await page.locator('button').allInnerTexts()).map((b) => b.trim()).filter(Boolean);
        for (const change of ['Promote all', 'Clean all', 'Retry all', 'Add job', 'Pause', 'Empty', 'Obliterate'])
          expect(buttons).not.toContain(change);
        // The same page, with the same login, asking for a change: refused (403, the service's error shape).
        const answer = await page.evaluate(async (url) => {
          const r = await fetch(url, { method: 'PUT' });
          return { status: r.status, body: (await r.json()) as unknown };
        }, `${api.url}/admin/queues/api/queues/${QUEUE}/e2e-delayed-ro/promote`);
        expect(answer).toEqual({
          status: 403,
          body: { error: { code: 'board_read_only', message: expect.any(String), key: 'ERRORS.FORBIDDEN' } },
        });
        expect(await queue.getJobState('e2e-delayed-ro')).toBe('delayed');
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it("a page of another site cannot use the browser's board login to change anything, even with BOARD_READ_ONLY=false", async () => {
      await queue.add('probe', { probe: 'csrf' }, { jobId: 'e2e-delayed-csrf', delay: 3_600_000 });
      const countsBefore = await queue.getJobCounts();
      const board = `${writable.url}/admin/queues`;
      // The other site: `localhost`, while the board is at 127.0.0.1 (another site to the browser). Its page
      // first tries a PUT by fetch, then posts the issue's cleanup job as a text/plain form: a top-level
      // navigation, which the browser sends with the board's cached basic-auth login.
      const job = JSON.stringify({
        name: 'cleanup',
        data: { sessionId: randomUUID(), tenantIds: [randomUUID()], end: 'destroyed' },
      });
      const evil = http.createServer((_req, res) => {
        res.setHeader('Content-Type', 'text/html');
        res.end(`<!doctype html><body>
        <form id="f" method="POST" enctype="text/plain" action="${board}/api/queues/${SESSION_QUEUE}/add">
          <input type="hidden" name='${job.slice(0, -1)}, "x": "' value='"}'>
        </form>
        <script>
          fetch('${board}/api/queues/${QUEUE}/e2e-delayed-csrf/promote', { method: 'PUT', credentials: 'include' })
            .catch(() => undefined)
            .then(() => document.getElementById('f').submit());
        </script></body>`);
      });
      await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
      const evilUrl = `http://localhost:${(evil.address() as AddressInfo).port}/`;
      const context = await browser.newContext({ httpCredentials: ADMIN });
      try {
        const page = await context.newPage();
        // Logged in to the board first, so the browser holds the credentials.
        expect((await page.goto(board, { waitUntil: 'domcontentloaded' }))?.status()).toBe(200);
        // What the board answered, seen at the server (the browser hides a cross-site answer from the page, and from us).
        const seen: string[] = [];
        const record = (req: http.IncomingMessage, res: http.ServerResponse) => {
          const what = `${req.method} ${req.url?.replace(/^.*\/api\/queues\//, '')} ${req.headers['sec-fetch-site']} ${req.headers.authorization ? 'with' : 'without'} login`;
          if (req.method !== 'GET') res.on('finish', () => seen.push(`${what}: ${res.statusCode}`));
        };
        writable.server.on('request', record);
        const posted = page.waitForResponse(
          (r) => r.url().endsWith('/add') && r.request().method() === 'POST' && r.status() !== 401,
          { timeout: 20_000 },
        );
        await page.goto(evilUrl, { waitUntil: 'domcontentloaded' });
        const answer = await posted;
        expect(answer.status()).toBe(403);
        expect(await answer.json()).toEqual({
          error: { code: 'cross_site_request', message: expect.any(String), key: 'ERRORS.FORBIDDEN' },
        });
        writable.server.off('request', record);
        // At the board: the PUT's CORS preflight (never with a login) 401, so the browser never sent the PUT;
        // the form's POST 403 with the login (a first try without it, if any, 401).
        expect(seen).toContain(`OPTIONS ${QUEUE}/e2e-delayed-csrf/promote cross-site without login: 401`);
        expect(seen).toContain(`POST ${SESSION_QUEUE}/add cross-site with login: 403`);
        for (const s of seen) expect(s).toMatch(/without login: 401$|with login: 403$/);
        expect(await queue.getJobState('e2e-delayed-csrf')).toBe('delayed');
        expect(await queue.getJobCounts()).toEqual(countsBefore);
        const sessionQueue = new Queue(SESSION_QUEUE, { connection: h.rt.redis, prefix: h.cfg.QUEUE_PREFIX });
        try {
          expect(
            (await sessionQueue.getJobs(['waiting', 'delayed', 'prioritized', 'active'])).filter(
              (j) => j.name === 'cleanup',
            ),
          ).toEqual([]);
        } finally {
          await sessionQueue.close();
        }

        // The board's own page may promote it (BOARD_READ_ONLY=false): the refusal above was the other site's.
        await page.goto(board, { waitUntil: 'domcontentloaded' });
        const own = await page.evaluate(
          async (url) => (await fetch(url, { method: 'PUT' })).status,
          `${board}/api/queues/${QUEUE}/e2e-delayed-csrf/promote`,
        );
        expect(own).toBe(204);
        expect(await queue.getJobState('e2e-delayed-csrf')).toBe('waiting');
      } finally {
        await context.close();
        await new Promise<void>((r) => evil.close(() => r()));
      }
    });
  },
);
