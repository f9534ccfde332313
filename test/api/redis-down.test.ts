import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.ts';
import { SERVICES, type ServiceName } from '../../src/catalog/services.ts';
import { createRuntime, type Runtime } from '../../src/runtime/runtime.ts';
import { Databases } from '../../src/db/pools.ts';
import type { SessionView } from '../../src/sessions/session-view.ts';
import { redisReady } from '../../src/redis/connection.ts';
import { deleteKeysMatching } from '../../src/redis/keys.ts';
import { startWorkers } from '../../src/workers/run-workers.ts';
import { createHarness, eventually, type Harness } from '../support/harness.ts';
import { runCli } from '../support/processes.ts';
import { client, expectErrorShape, freshEmail, PATH, postSession, startTestApi } from './helpers.ts';

/**
 * A TCP proxy to the real Redis that the test can freeze (hold all traffic) or cut, as if
 * Redis hung or went away, and restore (listen again on the same port: Redis is back).
 */
async function redisProxy(
  target: URL,
): Promise<{ url: string; freeze(): void; thaw(): void; cut(): Promise<void>; restore(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let frozen = false;
  let held: [net.Socket, Buffer][] = [];
  const forward = (from: net.Socket, to: net.Socket) =>
    from.on('data', (d: Buffer) => {
      if (frozen) held.push([to, d]);
      else to.write(d);
    });
  const server = net.createServer((inbound) => {
    const outbound = net.connect(Number(target.port || 6379), target.hostname);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        inbound.destroy();
        outbound.destroy();
      });
    }
    forward(inbound, outbound);
    forward(outbound, inbound);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const [to, d] of held) to.write(d);
      held = [];
    },
    cut: () =>
      new Promise<void>((r) => {
        if (!server.listening) return r();
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
    restore: () => new Promise<void>((r) => server.listen(port, '127.0.0.1', r)),
  };
}

async function countByStatus(h: Harness): Promise<Record<string, number>> {
  const { rows } = await h.rt.dbs
    .pool('demo_session')
    .query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM demo_sessions GROUP BY status');
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/**
 * The first create of a fresh API validates the profile and warms it up; on a busy
 * machine that can outlast the tests' 500 ms queue bound (a 503, its late session
 * destroyed), which is not what they test: try again until one is answered 202.
 */
async function warmUp(api: Parameters<typeof postSession>[0]): Promise<void> {
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await postSession(api, { demo_account_type: 'professional', email: freshEmail() });
    if (res.status === 202) return;
    statuses.push(res.status);
  }
  throw new Error(`warm-up POST never answered 202: ${statuses.join(', ')}`);
}

/** With Redis away the API answers at once: 503 where the queue is needed, 4xx/200 elsewhere, and leaves no session pending. */
describe('HTTP API: Redis down', () => {
  let h: Harness;
  const runtimes: Runtime[] = [];
  const apis: RunningApi[] = [];

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await Promise.all(apis.map((a) => a.close()));
    await Promise.all(runtimes.map((r) => r.close()));
    await h?.close();
  });

  const apiWith = async (overrides: Record<string, unknown>, opts: { queueTimeoutMs?: number } = {}) => {
    const cfg = { ...h.cfg, ...overrides } as typeof h.cfg;
    const rt = createRuntime(cfg, h.rt.log);
    runtimes.push(rt);
    const api = await startTestApi(h, overrides, { runtime: rt, ...opts });
    apis.push(api);
    return { rt, api };
  };

  describe('from the start (REDIS_URL names a closed port)', () => {
    let api: RunningApi;
    beforeAll(async () => {
      // With the rate limit on: its counters are in Redis too, and must not turn the 503 into a 500.
      ({ api } = await apiWith({ REDIS_URL: 'redis://127.0.0.1:6390', RATE_LIMIT_PER_MINUTE: 30 }));
    });

    it('POST answers 503 queue_unavailable within 2 s and records no pending session', async () => {
      const before = await countByStatus(h);
      const t0 = Date.now();
      const res = await postSession(api, { demo_account_type: 'professional', email: freshEmail() });
      expect(Date.now() - t0).toBeLessThan(2_000);
      expectErrorShape(res, 503, 'queue_unavailable');
      const after = await countByStatus(h);
      expect(after.pending ?? 0).toBe(before.pending ?? 0);
    });

    it('bad input is still a 4xx, not a 503', async () => {
      expectErrorShape(await postSession(api, { demo_account_type: 'nope', email: 'x' }), 400, 'validation_error');
    });

    it('GET still answers from the database; DELETE answers 503 and leaves the session as it was', async () => {
      const s = await h.rt.producer.create({ profile: 'professional', email: freshEmail() });
      const got = await client(api).get(`${PATH}/${s.session_id}`);
      expect(got.status, got.text).toBe(200);
      expect(got.body.status).toBe('pending');
      const t0 = Date.now();
      expectErrorShape(await client(api).delete(`${PATH}/${s.session_id}`), 503, 'queue_unavailable');
      expect(Date.now() - t0).toBeLessThan(2_000);
      expect((await h.rt.producer.view(s.session_id))?.status).toBe('pending');
      expectErrorShape(await client(api).delete(`${PATH}/00000000-0000-4000-8000-000000000000`), 404);
    });

    it('/readyz answers 503 naming redis; /healthz and /metrics still answer', async () => {
      const t0 = Date.now();
      const ready = await client(api).get('/readyz');
      expect(Date.now() - t0).toBeLessThan(3_000);
      expectErrorShape(ready, 503, 'not_ready');
      expect(ready.body.error.message).toMatch(/redis/);
      expect(ready.body.checks.redis).not.toBe('ok');
      expect(ready.body.checks.databases).toBe('ok');
      expect((await client(api).get('/healthz')).status).toBe(200);
      const metrics = await client(api).get('/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.text).toMatch(/demo_sessions\{status="pending"\}/);
    });
  });

  describe('lost while running', () => {
    it('POST answers 202 while Redis is there, then 503 at once, with no session left pending', async () => {
      const proxy = await redisProxy(new URL(h.cfg.REDIS_URL));
      const { rt, api } = await apiWith({ REDIS_URL: proxy.url, RATE_LIMIT_PER_MINUTE: 0 });
      await redisReady(rt.redis);
      const ok = await postSession(api, { demo_account_type: 'professional', email: freshEmail() });
      expect(ok.status, ok.text).toBe(202);
      const pendingBefore = (await countByStatus(h)).pending ?? 0;

      await proxy.cut();
      await eventually(async () => (rt.redis.status === 'ready' ? undefined : true), 2_000, 'the client to notice');
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now();
        const res = await postSession(api, { demo_account_type: 'professional', email: freshEmail() });
        expect(Date.now() - t0).toBeLessThan(2_000);
        expectErrorShape(res, 503, 'queue_unavailable');
      }
      expect((await countByStatus(h)).pending ?? 0).toBe(pendingBefore);
      expectErrorShape(await client(api).get('/readyz'), 503, 'not_ready');
    });
  });

  describe('connected but not answering', () => {
    it('POST answers 503 once the bound runs out; the session it made late is destroyed, so a retry makes no twin', async () => {
      const proxy = await redisProxy(new URL(h.cfg.REDIS_URL));
      const { rt, api } = await apiWith({ REDIS_URL: proxy.url, RATE_LIMIT_PER_MINUTE: 0 }, { queueTimeoutMs: 500 });
      await redisReady(rt.redis);
      await warmUp(api);

      proxy.freeze();
      const email = freshEmail('frozen');
      const t0 = Date.now();
      const res = await postSession(api, { demo_account_type: 'professional', email });
      expect(Date.now() - t0).toBeLessThan(2_000);
      expectErrorShape(res, 503, 'queue_unavailable');
      expectErrorShape(await client(api).get('/readyz'), 503, 'not_ready');

      proxy.thaw();
      // The request timed out, not the work: once Redis answers, the create finishes, and the
      // API destroys what it made (the client was told 503): the session's cleanup is enqueued.
      const { rows } = await h.rt.dbs
        .pool('demo_session')
        .query<{ session_id: string; status: string }>(
          'SELECT session_id, status FROM demo_sessions WHERE email = $1',
          [email],
        );
      expect(rows).toHaveLength(1);
      const id = rows[0]!.session_id;
      await eventually(
        async () => {
          const r = await h.rt.dbs
            .pool('demo_session')
            .query<{ status: string }>('SELECT status FROM demo_sessions WHERE session_id = $1', [id]);
          return ['destroying', 'destroyed'].includes(r.rows[0]?.status ?? '') ? r.rows[0]!.status : undefined;
        },
        5_000,
        'the late session to be destroyed',
      );
      // The record moves to destroying first, then its cleanup flow is enqueued (no worker runs it here).
      await eventually(
        async () =>
          (await h.rt.redis.exists(`${h.cfg.QUEUE_PREFIX}:demo-session:${id}-cleanup`)) === 1 ? true : undefined,
        5_000,
        'its cleanup job',
      );
      await proxy.cut();
    });
  });

  describe('connected but not answering, with an Idempotency-Key', () => {
    it('the session made late is kept, and the retry with the same key is answered with it', async () => {
      const proxy = await redisProxy(new URL(h.cfg.REDIS_URL));
      const { rt, api } = await apiWith({ REDIS_URL: proxy.url, RATE_LIMIT_PER_MINUTE: 0 }, { queueTimeoutMs: 500 });
      await redisReady(rt.redis);
      await warmUp(api);

      proxy.freeze();
      const body = { demo_account_type: 'professional', email: freshEmail('frozen-key') };
      const key = `retry-${Date.now()}`;
      const send = () => postSession(api, body, { 'Idempotency-Key': key });
      expectErrorShape(await send(), 503, 'queue_unavailable');
      proxy.thaw();

      const id = await eventually(
        async () =>
          (
            await h.rt.dbs
              .pool('demo_session')
              .query<{ session_id: string }>('SELECT session_id FROM demo_sessions WHERE idempotency_key = $1', [key])
          ).rows[0]?.session_id,
        5_000,
        'the late session',
      );
      await eventually(
        async () => ((await h.rt.redis.exists(`${h.cfg.QUEUE_PREFIX}:demo-session:${id}`)) ? true : undefined),
        5_000,
        'its flow',
      );
      const retry = await send();
      expect(retry.status, retry.text).toBe(202);
      expect(retry.body.session_id).toBe(id);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      const { rows } = await h.rt.dbs
        .pool('demo_session')
        .query<{ status: string }>('SELECT status FROM demo_sessions WHERE session_id = $1', [id]);
      expect(['pending', 'loading', 'ready']).toContain(rows[0]?.status);
      await proxy.cut();
    });
  });

  describe('lost while a session loads', () => {
    it('GET shows the services already loaded, with their rows, from the load markers in PostgreSQL', async () => {
      const proxy = await redisProxy(new URL(h.cfg.REDIS_URL));
      // Small pools: PostgreSQL's connections are shared with every other test running.
      const { rt, api } = await apiWith({ REDIS_URL: proxy.url, RATE_LIMIT_PER_MINUTE: 0, PG_POOL_SIZE: 1 });
      await redisReady(rt.redis);
      // Workers (on the real Redis) for 10 of the 11 services: orchestrator, the last wave, never loads.
      const missing: ServiceName = 'orchestrator';
      const workerDbs = new Databases({ ...h.cfg, PG_POOL_SIZE: 2 });
      const workers = await startWorkers(
        h.cfg,
        workerDbs,
        h.rt.log,
        SERVICES.filter((s) => s !== missing),
      );
      const created = await postSession(api, { demo_account_type: 'professional', email: freshEmail('partly') });
      expect(created.status, created.text).toBe(202);
      const id = created.body.session_id as string;
      const readyOthers = (v: SessionView) => SERVICES.every((s) => s === missing || v.services[s].status === 'ready');
      const live = await eventually(
        async () => {
          const v = (await client(api).get(`${PATH}/${id}`)).body as SessionView;
          return readyOthers(v) ? v : undefined;
        },
        60_000,
        '10 services loaded',
      );
      await workers.close();
      await workerDbs.close();
      expect(live.status).toBe('loading');
      expect(live.services[missing].status).toBe('pending');

      const check = async (what: string) => {
        const t0 = Date.now();
        const res = await client(api).get(`${PATH}/${id}`);
        expect(Date.now() - t0, what).toBeLessThan(3_000);
        expect(res.status, res.text).toBe(200);
        const v = res.body as SessionView;
        expect(v.status, what).toBe('loading');
        for (const s of SERVICES) {
          if (s === missing) expect(v.services[s], `${what}: ${s}`).toMatchObject({ status: 'pending', rows: 0 });
          else expect(v.services[s], `${what}: ${s}`).toMatchObject({ status: 'ready', rows: live.services[s].rows });
        }
        expect(SERVICES.filter((s) => s !== missing).every((s) => live.services[s].rows > 0)).toBe(true);
      };
      // Connected but not answering: the progress read gives up after its bound, then the markers.
      proxy.freeze();
      await check('Redis frozen');
      proxy.thaw();
      // Gone.
      await proxy.cut();
      await eventually(async () => (rt.redis.status === 'ready' ? undefined : true), 2_000, 'the client to notice');
      await check('Redis gone');
    });
  });

  describe('outages of a whole process (`demo-seed start`: workers, API, event reader)', () => {
    it('each outage is logged once when it starts and once when it ends; no line per retry, no unhandled error event', async () => {
      const proxy = await redisProxy(new URL(h.cfg.REDIS_URL));
      // A queue prefix of its own: no job of the other tests runs into the outage (a job that loses its lock is logged, rightly).
      const QUEUE_PREFIX = `{t-${h.id}-start}`;
      const env = {
        ...h.env,
        QUEUE_PREFIX,
        REDIS_URL: proxy.url,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        RATE_LIMIT_PER_MINUTE: '0',
        PG_POOL_SIZE: '1',
      };
      const proc = runCli(['start'], env);
      try {
        await eventually(
          async () => (proc.output().includes('HTTP API listening') ? true : undefined),
          30_000,
          'the process to start',
        );
        const url = await eventually(async () => {
          const line = proc
            .output()
            .split('\n')
            .find((l) => l.includes('HTTP API listening'));
          return line ? (JSON.parse(line) as { url: string }).url : undefined;
        }, 1_000);
        const from = proc.output().length;
        const lines = () => proc.output().slice(from).split('\n').filter(Boolean);
        const logged = (msg: string) => lines().filter((l) => l.includes(`"msg":"${msg}"`)).length;
        const DOWN_MS = 3_000;
        for (let n = 1; n <= 2; n++) {
          await proxy.cut();
          // While down: every connection retries (ioredis: about every 2 s, each try an error event).
          const until = Date.now() + DOWN_MS;
          while (Date.now() < until) {
            const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
            expect(res.status).toBe(503);
            await new Promise((r) => setTimeout(r, 300));
          }
          await proxy.restore();
          await eventually(
            async () => (logged('redis connection back') === n ? true : undefined),
            15_000,
            `the end of outage ${n} in the log`,
          );
          await eventually(
            async () =>
              (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) })).status === 200 ? true : undefined,
            15_000,
            'the process ready again',
          );
        }
        const out = lines();
        const summary = out.join('\n');
        expect(logged('redis connection lost'), summary).toBe(2);
        expect(logged('redis connection back'), summary).toBe(2);
        expect(summary).not.toContain('Unhandled error event');
        expect(logged('worker error'), summary).toBe(0);
        // Every line is a log line (nothing printed raw by a library), and few are errors or warnings.
        expect(
          out.filter((l) => !l.startsWith('{')),
          summary,
        ).toEqual([]);
        // (/readyz logs each failed check itself: those lines answer the probes, they are not the outage's.)
        const loud = out.filter((l) => /"level":"(error|warn)"/.test(l) && !l.includes('"msg":"not ready"'));
        expect(loud.length, summary).toBeLessThanOrEqual(6);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n--- the process's output:\n${proc.output()}`);
      } finally {
        await proc.stop();
        await proxy.cut();
        await deleteKeysMatching(h.rt.redis, `${QUEUE_PREFIX}:*`);
      }
    }, 120_000);
  });

  it('/readyz answers 503 naming a database that is not reachable', async () => {
    const { rt, api } = await apiWith({
      INVENTORY_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/no_such_database_here',
    });
    await redisReady(rt.redis);
    const res = await client(api).get('/readyz');
    expectErrorShape(res, 503, 'not_ready');
    expect(res.body.error.message).toMatch(/database inventory/);
    expect(Object.keys(res.body.checks.databases)).toEqual(['inventory']);
    expect(res.body.checks.redis).toBe('ok');
  });
});
