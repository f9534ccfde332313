import { randomUUID } from 'node:crypto';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.ts';
import { SERVICES } from '../../src/catalog/services.ts';
import { SESSION_QUEUE } from '../../src/flows/jobs.ts';
import { QUEUE_NAMES } from '../../src/flows/queues.ts';
import { createRedis } from '../../src/redis/connection.ts';
import { createHarness, eventually, type Harness } from '../support/harness.ts';
import { client, expectErrorShape, startTestApi } from './helpers.ts';

/**
 * Bull Board cannot be turned against the databases: read-only by default (BOARD_READ_ONLY),
 * else retry and promote only; failed logins limited per client in Redis for every replica;
 * no change from another site; its errors in the service's shape; no X-Powered-By.
 * No worker runs here, so what the board did to a job stays visible through BullMQ.
 */
const ADMIN = { user: 'admin', password: 'board-s3cret' };
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const AUTH = basic(ADMIN.user, ADMIN.password);
const Q = SERVICES[0]!;
const B = '/admin/queues';

type Method = 'post' | 'put' | 'patch' | 'delete';

/** A job in each state the board could act on, in queue Q: failed (by a throw-away worker), delayed, waiting. */
async function seedJobs(
  h: Harness,
  tag: string,
): Promise<{ queue: Queue; failed: string; delayed: string; waiting: string; close(): Promise<void> }> {
  const queue = new Queue(Q, { connection: h.rt.redis, prefix: h.cfg.QUEUE_PREFIX });
  const failed = `probe-failed-${tag}`;
  const delayed = `probe-delayed-${tag}`;
  const waiting = `probe-waiting-${tag}`;
  const workerRedis = new Redis(h.cfg.REDIS_URL, { maxRetriesPerRequest: null });
  const worker = new Worker(
    Q,
    async (job) => {
      if (job.id !== failed) throw new Error(`this probe worker takes only ${failed}`);
      throw new UnrecoverableError('probe failure');
    },
    { connection: workerRedis, prefix: h.cfg.QUEUE_PREFIX, autorun: false },
  );
  worker.on('error', () => undefined);
  await queue.add('probe', { probe: 'failed' }, { jobId: failed, attempts: 1 });
  void worker.run();
  await eventually(
    async () => ((await queue.getJobState(failed)) === 'failed' ? true : undefined),
    15_000,
    'the probe job to fail',
  );
  await worker.close();
  await workerRedis.quit();
  await queue.add('probe', { probe: 'delayed' }, { jobId: delayed, delay: 3_600_000 });
  await queue.add('probe', { probe: 'waiting' }, { jobId: waiting });
  return { queue, failed, delayed, waiting, close: () => queue.close() };
}

/** Every job of Q with its state and data, and whether Q is paused: what the board must not change. */
async function snapshot(queue: Queue) {
  const jobs = await queue.getJobs([
    'waiting',
    'delayed',
    'failed',
    'completed',
    'active',
    'prioritized',
    'waiting-children',
  ]);
  const rows = await Promise.all(
    jobs.map(async (j) => ({ id: j.id, name: j.name, state: await j.getState(), data: j.data as unknown })),
  );
  return {
    jobs: rows.sort((a, b) => String(a.id).localeCompare(String(b.id))),
    paused: await queue.isPaused(),
    counts: await queue.getJobCounts(),
  };
}

/** Jobs in every queue of the board (a job added by hand would show here). */
async function allCounts(h: Harness): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const name of QUEUE_NAMES) {
    const q = new Queue(name, { connection: h.rt.redis, prefix: h.cfg.QUEUE_PREFIX });
    try {
      out[name] = await q.getJobCounts();
      expect(await q.isPaused(), `${name} paused`).toBe(false);
    } finally {
      await q.close();
    }
  }
  return out;
}

/** The issue's attack: a cleanup job naming a customer's tenant, added through the board. */
const cleanupJob = { name: 'cleanup', data: { sessionId: randomUUID(), tenantIds: [randomUUID()], end: 'destroyed' } };

/** Every kind of change the board's API offers, for the jobs of `seedJobs`. */
function changes(j: { failed: string; delayed: string; waiting: string }): [string, Method, string, unknown?][] {
  return [
    ['add a cleanup job', 'post', `/api/queues/${SESSION_QUEUE}/add`, cleanupJob],
    [
      'add a service cleanup job',
      'post',
      `/api/queues/${Q}/add`,
      { name: 'cleanup-service', data: { sessionId: randomUUID(), tenantIds: [randomUUID()] } },
    ],
    ['retry a failed job', 'put', `/api/queues/${Q}/${j.failed}/retry`],
    ['retry every failed job', 'put', `/api/queues/${Q}/retry/failed`],
    ['promote a delayed job', 'put', `/api/queues/${Q}/${j.delayed}/promote`],
    ['promote every delayed job', 'put', `/api/queues/${Q}/promote`],
    ['clean (remove) a job', 'put', `/api/queues/${Q}/${j.failed}/clean`],
    ['clean every failed job', 'put', `/api/queues/${Q}/clean/failed`],
    ['empty the queue', 'put', `/api/queues/${Q}/empty`],
    ['pause the queue', 'put', `/api/queues/${Q}/pause`],
    ['pause every queue', 'put', '/api/queues/pause'],
    ['resume the queue', 'put', `/api/queues/${Q}/resume`],
    ['obliterate the queue', 'put', `/api/queues/${Q}/obliterate`, { force: true }],
    ['update a job data', 'patch', `/api/queues/${Q}/${j.waiting}/update-data`, { data: { tenantIds: ['x'] } }],
    ['change a delay', 'patch', `/api/queues/${Q}/${j.delayed}/delay`, { delay: 0 }],
    ['change a priority', 'patch', `/api/queues/${Q}/${j.waiting}/priority`, { priority: 1 }],
    ['set the concurrency', 'put', `/api/queues/${Q}/concurrency`, { concurrency: 1 }],
    ['set a rate limit', 'put', `/api/queues/${Q}/rate-limit`, { max: 1, duration: 1000 }],
    ['remove unprocessed children', 'put', `/api/queues/${Q}/${j.waiting}/remove-unprocessed-children`],
    ['delete something', 'delete', `/api/queues/${Q}/${j.waiting}`],
  ];
}

function send(api: RunningApi, method: Method, path: string, body?: unknown, auth = AUTH) {
  const req = client(api)[method](`${B}${path}`).set('Authorization', auth);
  return body === undefined ? req : req.set('Content-Type', 'application/json').send(JSON.stringify(body));
}

describe('Bull Board: read-only by default, retry and promote only when opened', () => {
  let h: Harness;
  let ro: RunningApi;
  let rw: RunningApi;
  let proxied: RunningApi;

  beforeAll(async () => {
    h = await createHarness();
    // The harness' config is the default one: BOARD_READ_ONLY unset.
    expect(h.cfg.BOARD_READ_ONLY).toBe(true);
    ro = await startTestApi(h, { ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password });
    rw = await startTestApi(h, { ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password, BOARD_READ_ONLY: false });
    proxied = await startTestApi(h, {
      ADMIN_USER: ADMIN.user,
      ADMIN_PASSWORD: ADMIN.password,
      BOARD_READ_ONLY: false,
      TRUST_PROXY: 'loopback',
    });
  });
  afterAll(async () => {
    await Promise.all([ro?.close(), rw?.close(), proxied?.close()]);
    await h?.close();
  });

  it('by default refuses every change with 403, in the error shape, and nothing changes in BullMQ', async () => {
    const jobs = await seedJobs(h, 'ro');
    try {
      const before = await snapshot(jobs.queue);
      const countsBefore = await allCounts(h);
      expect(before.jobs.map((j) => j.state).sort()).toEqual(['delayed', 'failed', 'waiting']);
      for (const [what, method, path, body] of changes(jobs)) {
        const res = await send(ro, method, path, body);
        expectErrorShape(res, 403, 'board_read_only');
        expect(res.body.error.message, what).toMatch(/BOARD_READ_ONLY/);
      }
      // The same through a browser's form: text/plain, same origin.
      const form = await client(ro)
        .post(`${B}/api/queues/${SESSION_QUEUE}/add`)
        .set('Authorization', AUTH)
        .set('Content-Type', 'text/plain')
        .send(JSON.stringify(cleanupJob));
      expectErrorShape(form, 403, 'board_read_only');
      expect(await snapshot(jobs.queue)).toEqual(before);
      expect(await allCounts(h)).toEqual(countsBefore);
    } finally {
      await jobs.close();
    }
  });

  it('by default still shows everything, and tells its UI every queue is read-only', async () => {
    const res = await client(ro).get(`${B}/api/queues`).set('Authorization', AUTH);
    expect(res.status, res.text).toBe(200);
    const queues = (res.body as { queues: { name: string; readOnlyMode: boolean; allowRetries: boolean }[] }).queues;
    expect(queues.map((q) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());
    for (const q of queues)
      expect({ name: q.name, readOnlyMode: q.readOnlyMode, allowRetries: q.allowRetries }).toEqual({
        name: q.name,
        readOnlyMode: true,
        allowRetries: false,
      });
    const head = await client(ro).head(`${B}/api/queues`).set('Authorization', AUTH);
    expect(head.status).toBe(200);
  });

  it('with BOARD_READ_ONLY=false retries failed jobs and promotes delayed ones, and refuses the rest', async () => {
    const jobs = await seedJobs(h, 'rw');
    try {
      const res = await client(rw).get(`${B}/api/queues`).set('Authorization', AUTH);
      for (const q of (res.body as { queues: { readOnlyMode: boolean; allowRetries: boolean }[] }).queues) {
        expect(q).toMatchObject({ readOnlyMode: false, allowRetries: true });
      }

      const before = await snapshot(jobs.queue);
      const countsBefore = await allCounts(h);
      const allowed = new Set([
        'retry a failed job',
        'retry every failed job',
        'promote a delayed job',
        'promote every delayed job',
      ]);
      for (const [what, method, path, body] of changes(jobs).filter(([what]) => !allowed.has(what))) {
        const res = await send(rw, method, path, body);
        expectErrorShape(res, 403, 'board_action_refused');
        expect(res.body.error.message, what).toMatch(/only retry failed jobs and promote delayed/);
      }
      // Only failed jobs are retried: not a waiting one, nor "every completed job".
      const waiting = await send(rw, 'put', `/api/queues/${Q}/${jobs.waiting}/retry`);
      expectErrorShape(waiting, 403, 'board_action_refused');
      expect(waiting.body.error.message).toMatch(/this one is waiting/);
      expectErrorShape(await send(rw, 'put', `/api/queues/${Q}/retry/completed`), 403, 'board_action_refused');
      // Case and slashes do not open another way in.
      expectErrorShape(
        await send(rw, 'post', `/API/queues/${SESSION_QUEUE}/ADD`, cleanupJob),
        403,
        'board_action_refused',
      );
      expectErrorShape(await send(rw, 'put', `/api/queues/${Q}/${jobs.failed}/CLEAN`), 403, 'board_action_refused');
      expectErrorShape(await send(rw, 'put', `/api/queues/${Q}//${jobs.failed}/retry`), 403, 'board_action_refused');
      // The library's router would take these for "clean every job of status retry/promote", or release a rate limit.
      for (const path of [
        'clean/retry',
        'CLEAN/promote',
        'Clean/retry',
        'rate-limit/promote',
        'retry/retry',
        'RETRY/failed',
        'promote/',
      ]) {
        expectErrorShape(await send(rw, 'put', `/api/queues/${Q}/${path}`), 403, 'board_action_refused');
      }
      expect(await snapshot(jobs.queue)).toEqual(before);
      expect(await allCounts(h)).toEqual(countsBefore);

      // Now the allowed ones: each does what it says, through BullMQ.
      const retried = await send(rw, 'put', `/api/queues/${Q}/${jobs.failed}/retry`);
      expect(retried.status, retried.text).toBe(204);
      expect(await jobs.queue.getJobState(jobs.failed)).toBe('waiting');
      const promoted = await send(rw, 'put', `/api/queues/${Q}/${jobs.delayed}/promote`);
      expect(promoted.status, promoted.text).toBe(204);
      expect(await jobs.queue.getJobState(jobs.delayed)).toBe('waiting');
      // Nothing left to retry or promote: the queue-wide forms answer, and change nothing else.
      expect((await send(rw, 'put', `/api/queues/${Q}/retry/failed`)).status).toBe(200);
      expect((await send(rw, 'put', `/api/queues/${Q}/promote`)).status).toBe(200);
      const after = await snapshot(jobs.queue);
      expect(after.jobs.map((j) => [j.id, j.state, j.data])).toEqual(before.jobs.map((j) => [j.id, 'waiting', j.data]));
      expect(after.paused).toBe(false);
    } finally {
      await jobs.close();
    }
  });

  it('refuses a change sent from another site (the cached credentials of a browser), and allows its own origin', async () => {
    const jobs = await seedJobs(h, 'csrf');
    try {
      const before = await snapshot(jobs.queue);
      const evil = [
        { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' },
        { Origin: 'https://evil.example' },
        { 'Sec-Fetch-Site': 'same-site' },
        { 'Sec-Fetch-Site': 'none' },
        { Origin: 'null' },
        { Origin: `${rw.url}.evil.example` },
        { Origin: rw.url.replace('http:', 'https:') },
      ];
      for (const headers of evil) {
        for (const [path, body] of [
          [`/api/queues/${Q}/${jobs.failed}/retry`, ''],
          [`/api/queues/${SESSION_QUEUE}/add`, JSON.stringify(cleanupJob)],
        ] as const) {
          const method = path.endsWith('/add') ? 'post' : 'put';
          const res = await client(rw)
            [method](`${B}${path}`)
            .set('Authorization', AUTH)
            .set(headers)
            .set('Content-Type', 'text/plain')
            .send(body);
          expectErrorShape(res, 403, 'cross_site_request');
        }
      }
      // The read-only board refuses it too (as it refuses every change).
      const ro403 = await client(ro)
        .post(`${B}/api/queues/${SESSION_QUEUE}/add`)
        .set('Authorization', AUTH)
        .set({ Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'text/plain' })
        .send(JSON.stringify(cleanupJob));
      expectErrorShape(ro403, 403);
      expect(await snapshot(jobs.queue)).toEqual(before);

      // The board's own page: same origin, as a browser says it.
      const own = await client(rw)
        .put(`${B}/api/queues/${Q}/${jobs.failed}/retry`)
        .set('Authorization', AUTH)
        .set({ Origin: rw.url, 'Sec-Fetch-Site': 'same-origin' });
      expect(own.status, own.text).toBe(204);
      expect(await jobs.queue.getJobState(jobs.failed)).toBe('waiting');

      // Behind a trusted proxy the origin is the proxy's scheme and host; untrusted, those headers do not count.
      const forwarded = {
        Origin: 'https://board.example.com',
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': 'board.example.com',
        'Sec-Fetch-Site': 'same-origin',
      };
      expectErrorShape(
        await client(rw).put(`${B}/api/queues/${Q}/${jobs.delayed}/promote`).set('Authorization', AUTH).set(forwarded),
        403,
        'cross_site_request',
      );
      expect(await jobs.queue.getJobState(jobs.delayed)).toBe('delayed');
      const viaProxy = await client(proxied)
        .put(`${B}/api/queues/${Q}/${jobs.delayed}/promote`)
        .set('Authorization', AUTH)
        .set(forwarded);
      expect(viaProxy.status, viaProxy.text).toBe(204);
      expect(await jobs.queue.getJobState(jobs.delayed)).toBe('waiting');
    } finally {
      await jobs.close();
    }
  });

  it("answers its errors in the service's shape, with no internals, and never says X-Powered-By", async () => {
    const page = await client(ro).get(B).set('Authorization', AUTH);
    expect(page.status).toBe(200);
    const script = /src="([^"]*static\/js\/main[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script, 'the page names its main script').toBeDefined();
    const asset = await client(ro)
      .get(script!.startsWith('/') ? script! : `${B}/${script!.replace(/^\.?\//, '')}`)
      .set('Authorization', AUTH);
    expect(asset.status).toBe(200);

    const errors: [string, () => Promise<import('supertest').Response>, number, string][] = [
      [
        'a job that does not exist',
        () => client(ro).get(`${B}/api/queues/${Q}/no-such-job`).set('Authorization', AUTH),
        404,
        'job_not_found',
      ],
      [
        'a queue that does not exist',
        () => client(ro).get(`${B}/api/queues/no-such-queue/some-job`).set('Authorization', AUTH),
        404,
        'queue_not_found',
      ],
      [
        'a bad query parameter',
        () => client(ro).get(`${B}/api/queues?jobsPerPage=lots`).set('Authorization', AUTH),
        400,
        'invalid_query_param',
      ],
      [
        'an API route that does not exist',
        () => client(ro).get(`${B}/api/nothing-here`).set('Authorization', AUTH),
        404,
        'not_found',
      ],
      [
        'a static file that does not exist',
        () => client(ro).get(`${B}/static/nothing.js`).set('Authorization', AUTH),
        404,
        'not_found',
      ],
      [
        'a body that is not JSON (thrown by the board)',
        () =>
          client(rw)
            .put(`${B}/api/queues/${Q}/promote`)
            .set('Authorization', AUTH)
            .set('Content-Type', 'application/json')
            .send('{not json'),
        400,
        'invalid_json',
      ],
      ['a read-only refusal', () => send(ro, 'put', `/api/queues/${Q}/pause`), 403, 'board_read_only'],
      ['no credentials', () => client(ro).get(`${B}/api/queues`), 401, 'unauthorized'],
    ];
    for (const [what, call, status, code] of errors) {
      const res = await call();
      expectErrorShape(res, status, code);
      expect(Object.keys(res.body as object), what).toEqual(['error']);
      expect(res.text, what).not.toMatch(/stack|node_modules|ERRORS\.INTERNAL/i);
      expect(res.headers['x-powered-by'], what).toBeUndefined();
    }
    for (const res of [page, asset, await client(ro).get(`${B}/api/queues`).set('Authorization', AUTH)]) {
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });
});

describe('Bull Board login: failures limited per client, in Redis, for every replica', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('50 wrong passwords across two API instances: 429 with Retry-After after the limit, on both; then the right one too', async () => {
    const opts = { ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password };
    const [a, b] = await Promise.all([startTestApi(h, opts), startTestApi(h, opts)]);
    try {
      expect(h.cfg.ADMIN_LOGIN_MAX_FAILURES).toBe(10);
      expect(h.cfg.ADMIN_LOGIN_WINDOW_SECONDS).toBe(900);
      // The right password works before.
      for (const api of [a, b])
        expect((await client(api).get(`${B}/api/queues`).set('Authorization', AUTH)).status).toBe(200);
      const statuses: number[] = [];
      for (let i = 0; i < 50; i++) {
        const api = i % 2 === 0 ? a : b;
        const res = await client(api)
          .get(`${B}/api/queues`)
          .set('Authorization', basic(ADMIN.user, `guess-${i}`));
        statuses.push(res.status);
        if (res.status === 429) {
          expectErrorShape(res, 429, 'rate_limited');
          const retryAfter = Number(res.headers['retry-after']);
          expect(
            Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 900,
            `Retry-After ${res.headers['retry-after']}`,
          ).toBe(true);
        } else {
          expectErrorShape(res, 401, 'unauthorized');
        }
      }
      expect(statuses).toEqual([...Array<number>(10).fill(401), ...Array<number>(40).fill(429)]);
      // Both instances refuse the right password now, and the board's page too.
      for (const api of [a, b]) {
        for (const path of [`${B}/api/queues`, B]) {
          const res = await client(api).get(path).set('Authorization', AUTH);
          expectErrorShape(res, 429, 'rate_limited');
          expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
          expect(res.headers['www-authenticate']).toBeUndefined();
        }
      }
      // The count is in Redis, under the harness' prefix.
      const keys = await h.rt.redis.keys(`${h.cfg.QUEUE_PREFIX}:admin-login-failures:*`);
      expect(keys.length).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('is per client (TRUST_PROXY decides who the client is), and lifts when the window ends', async () => {
    const opts = {
      ADMIN_USER: ADMIN.user,
      ADMIN_PASSWORD: ADMIN.password,
      TRUST_PROXY: 'loopback',
      ADMIN_LOGIN_MAX_FAILURES: 3,
      ADMIN_LOGIN_WINDOW_SECONDS: 2,
    };
    const [a, b] = await Promise.all([startTestApi(h, opts), startTestApi(h, opts)]);
    try {
      const attacker = { 'X-Forwarded-For': '203.0.113.7' };
      const admin = { 'X-Forwarded-For': '203.0.113.8' };
      const wrong = basic(ADMIN.user, 'nope');
      // No credentials at all (a browser before it asks) is not a failure.
      for (let i = 0; i < 5; i++) expectErrorShape(await client(a).get(B).set(attacker), 401, 'unauthorized');
      const seen: number[] = [];
      for (let i = 0; i < 5; i++)
        seen.push(
          (
            await client(i % 2 ? b : a)
              .get(B)
              .set(attacker)
              .set('Authorization', wrong)
          ).status,
        );
      expect(seen).toEqual([401, 401, 401, 429, 429]);
      const blocked = await client(b).get(B).set(attacker).set('Authorization', AUTH);
      expectErrorShape(blocked, 429, 'rate_limited');
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(2);
      // Another client is not refused.
      expect((await client(a).get(B).set(admin).set('Authorization', AUTH)).status).toBe(200);
      // Once the window is over, the right password gets in again.
      const status = await eventually(
        async () => {
          const res = await client(a).get(B).set(attacker).set('Authorization', AUTH);
          return res.status === 429 ? undefined : res.status;
        },
        15_000,
        'the login window to end',
      );
      expect(status).toBe(200);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('with Redis away, no login is checked (503), so guesses cannot go uncounted', async () => {
    const dead = createRedis('redis://127.0.0.1:1', 'producer');
    const api = await startTestApi(
      h,
      { ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password },
      { runtime: { producer: h.rt.producer, dbs: h.rt.dbs, redis: dead } },
    );
    try {
      for (const auth of [AUTH, basic(ADMIN.user, 'nope')]) {
        const res = await client(api).get(`${B}/api/queues`).set('Authorization', auth);
        expectErrorShape(res, 503, 'login_unavailable');
        expect(res.headers['retry-after']).toBe('5');
      }
    } finally {
      await api.close();
      dead.disconnect();
    }
  });
});
