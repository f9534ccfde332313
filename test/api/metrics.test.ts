import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import type { RunningApi } from '../../src/api/server.ts';
import { SERVICES } from '../../src/catalog/services.ts';
import { SESSION_QUEUE, type ServiceJobData, type SessionJobData } from '../../src/flows/jobs.ts';
import type { SessionView } from '../../src/sessions/session-view.ts';
import { createHarness, eventually, type Harness } from '../support/harness.ts';
import { PATH, client, freshEmail, parseMetrics, postSession, startTestApi, waitForStatus } from './helpers.ts';

/** /metrics: sessions by status from the database, job metrics from BullMQ's events (workers may be elsewhere). */
describe('HTTP API: metrics', () => {
  let h: Harness;
  let api: RunningApi;
  const scrape = async () => {
    const res = await client(api).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    return parseMetrics(res.text);
  };
  const value = (m: Map<string, number>, key: string) => m.get(key) ?? 0;

  beforeAll(async () => {
    h = await createHarness();
    await h.startWorkers();
    api = await startTestApi(h, { RATE_LIMIT_PER_MINUTE: 0 });
    await api.eventsReady;
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
  });

  it('change as a session is created, loaded and destroyed', async () => {
    const before = await scrape();
    for (const s of ['pending', 'loading', 'ready', 'failed', 'destroying', 'destroyed', 'expired']) {
      expect(before.has(`demo_sessions{status="${s}"}`), s).toBe(true);
    }

    const res = await postSession(api, { demo_account_type: 'professional', email: freshEmail() });
    expect(res.status).toBe(202);
    const id = (res.body as { session_id: string }).session_id;
    const created = await scrape();
    expect(value(created, 'demo_sessions_created_total{demo_account_type="professional"}')).toBe(
      value(before, 'demo_sessions_created_total{demo_account_type="professional"}') + 1,
    );

    const ready: SessionView = await waitForStatus(api, id, ['ready']);
    const loaded = await eventually(
      async () => {
        const m = await scrape();
        return value(m, 'demo_session_duration_seconds_count{demo_account_type="professional"}') >= 1 ? m : undefined;
      },
      10_000,
      'the session duration to be observed',
    );
    expect(value(loaded, 'demo_sessions{status="ready"}')).toBe(1);
    expect(value(loaded, 'demo_sessions_finished_total{status="ready"}')).toBe(1);
    expect(value(loaded, 'demo_session_duration_seconds_sum{demo_account_type="professional"}')).toBeCloseTo(
      ready.duration_ms! / 1000,
      3,
    );
    for (const s of SERVICES) {
      expect(value(loaded, `demo_service_load_duration_seconds_count{service="${s}"}`), s).toBe(1);
      expect(value(loaded, `demo_rows_loaded_total{service="${s}"}`), s).toBe(ready.services[s].rows);
    }

    expect((await client(api).delete(`${PATH}/${id}`)).status).toBe(202);
    await waitForStatus(api, id, ['destroyed']);
    const gone = await eventually(
      async () => {
        const m = await scrape();
        return value(m, 'demo_sessions_removed_total{end="destroyed"}') >= 1 ? m : undefined;
      },
      10_000,
      'the cleanup to be counted',
    );
    expect(value(gone, 'demo_sessions{status="ready"}')).toBe(0);
    expect(value(gone, 'demo_sessions{status="destroyed"}')).toBe(1);
    const deleted = SERVICES.reduce((n, s) => n + value(gone, `demo_rows_deleted_total{service="${s}"}`), 0);
    expect(deleted).toBe(SERVICES.reduce((n, s) => n + ready.services[s].rows, 0));
    expect(value(gone, 'demo_http_requests_total{method="POST",route="/api/v1/demo-sessions",status="202"}')).toBe(1);
  });

  it('count job retries and failures, whichever process ran the job', async () => {
    const before = await scrape();
    const queue = new Queue(SESSION_QUEUE, { connection: h.rt.redis, prefix: h.cfg.QUEUE_PREFIX });
    try {
      // Good data, but a session with no record: a plain (retried) error, until the attempts run out.
      // (Bad data would fail at once: the job map's schemas refuse it before the handler.)
      const data = (sessionId: string): SessionJobData => ({
        sessionId,
        profile: 'professional',
        dataDir: path.resolve(h.cfg.SEED_DATA_DIR),
        createdAt: new Date().toISOString(),
        ttlSeconds: 60,
        tenantIds: [randomUUID()],
      });
      await queue.add('session', data(randomUUID()), {
        attempts: 3,
        backoff: { type: 'fixed', delay: 10 },
        removeOnFail: true,
      });
      await queue.add('session', data(randomUUID()), { attempts: 2, removeOnFail: true });
      const after = await eventually(
        async () => {
          const m = await scrape();
          return value(m, `demo_job_failures_total{queue="${SESSION_QUEUE}"}`) -
            value(before, `demo_job_failures_total{queue="${SESSION_QUEUE}"}`) >=
            2
            ? m
            : undefined;
        },
        15_000,
        'two failures',
      );
      // 2 retries with backoff (delayed), 1 without (straight back to waiting).
      expect(
        value(after, `demo_job_retries_total{queue="${SESSION_QUEUE}"}`) -
          value(before, `demo_job_retries_total{queue="${SESSION_QUEUE}"}`),
      ).toBe(3);
    } finally {
      await queue.close();
    }
  });

  it("count a service queue's retries and failures from what its worker tells the session queue's events", async () => {
    const before = await scrape();
    const queue = new Queue('tenant', { connection: h.rt.redis, prefix: h.cfg.QUEUE_PREFIX });
    const tenantDb = h.rt.dbs.pool('tenant');
    try {
      // Good data, but a load marker the tenant database refuses: a plain error, retried once.
      await tenantDb.query(`
        CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no loads today'; END $$;
        CREATE TRIGGER refuse_loads BEFORE INSERT ON demo_seed.session_loads FOR EACH ROW EXECUTE FUNCTION refuse();
        -- ALWAYS: the loads run as replica (LOAD_FK_CHECKS=skip), where ordinary triggers do not fire.
        ALTER TABLE demo_seed.session_loads ENABLE ALWAYS TRIGGER refuse_loads;`);
      const data: ServiceJobData = {
        sessionId: randomUUID(),
        profile: 'professional',
        dataDir: path.resolve(h.cfg.SEED_DATA_DIR),
        createdAt: new Date().toISOString(),
        ttlSeconds: 60,
        service: 'tenant',
        phase: 1,
        wave: 1,
      };
      await queue.add('load-service', data, { attempts: 2, removeOnFail: true });
      const key = (name: string) => `${name}{queue="tenant"}`;
      const after = await eventually(
        async () => {
          const m = await scrape();
          return value(m, key('demo_job_failures_total')) - value(before, key('demo_job_failures_total')) >= 1
            ? m
            : undefined;
        },
        15_000,
        'the failure of the tenant job',
      );
      expect(value(after, key('demo_job_failures_total')) - value(before, key('demo_job_failures_total'))).toBe(1);
      expect(value(after, key('demo_job_retries_total')) - value(before, key('demo_job_retries_total'))).toBe(1);
      // Nothing is counted for the session queue.
      expect(value(after, `demo_job_failures_total{queue="${SESSION_QUEUE}"}`)).toBe(
        value(before, `demo_job_failures_total{queue="${SESSION_QUEUE}"}`),
      );
    } finally {
      await tenantDb.query(
        'DROP TRIGGER IF EXISTS refuse_loads ON demo_seed.session_loads; DROP FUNCTION IF EXISTS refuse()',
      );
      await queue.close();
    }
  });
});
