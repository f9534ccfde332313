import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { QueueEvents, Queue, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceName } from '../../src/catalog/services.ts';
import { serviceJobs } from '../../src/flows/build-flow.ts';
import type { ServiceJobResult, SessionJobData } from '../../src/flows/jobs.ts';
import { idMapKey } from '../../src/redis/keys.ts';
import { idMapperFor } from '../../src/seed/ids.ts';
import type { SessionView } from '../../src/sessions/session-view.ts';
import { countsOf, sessionRows } from '../support/data-rules.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { createAndWait, readManifest, SEED_DATA } from '../support/sessions.ts';

/** A service job retried after its commit, or run twice at the same moment, leaves exactly one copy of its rows. */
describe('service jobs are exactly-once in effect', () => {
  let h: Harness;
  let events: Map<string, QueueEvents>;
  let ready: SessionView;

  beforeAll(async () => {
    h = await createHarness();
    await h.startWorkers();
    events = new Map();
    ready = await createAndWait(h, 'professional');
  });
  afterAll(async () => {
    await Promise.all([...events.values()].map((e) => e.close()));
    await h?.close();
  });

  /** Adds a service job with its own job id (as a retry or a duplicate delivery would run) and waits for its result. */
  async function runJob(data: SessionJobData, service: ServiceName, jobId: string): Promise<ServiceJobResult> {
    const [spec] = serviceJobs(h.cfg, data, [service]);
    const queue = new Queue(service, { connection: h.rt.redis, prefix: h.cfg.QUEUE_PREFIX });
    let qe = events.get(service);
    if (!qe) {
      qe = new QueueEvents(service, { connection: { url: h.cfg.REDIS_URL } as never, prefix: h.cfg.QUEUE_PREFIX });
      await qe.waitUntilReady();
      events.set(service, qe);
    }
    try {
      const job: Job = await queue.add(spec!.name, spec!.data, { ...spec!.opts, jobId });
      return (await job.waitUntilFinished(qe, 30_000)) as ServiceJobResult;
    } finally {
      await queue.close();
    }
  }

  function sessionData(v: SessionView): SessionJobData {
    return {
      sessionId: v.session_id,
      profile: 'professional',
      dataDir: path.resolve(SEED_DATA),
      createdAt: v.created_at,
      ttlSeconds: 3600,
      tenantIds: v.tenant_ids,
    };
  }

  it('a job retried after its commit loads nothing more and publishes the same ID maps again', async () => {
    const manifest = await readManifest('professional');
    const key = idMapKey(h.cfg.QUEUE_PREFIX, ready.session_id, 'production.production_batches');
    const before = await h.rt.redis.hgetall(key);
    expect(Object.keys(before).length).toBe(manifest.counts.production?.production_batches);
    await h.rt.redis.del(key); // as if the first run died between COMMIT and publishing

    const again = await runJob(sessionData(ready), 'production', `${ready.session_id}-production-retry`);
    expect(again.already_loaded).toBe(true);
    expect(again.rows).toBe(ready.services.production.rows);
    expect(await h.rt.redis.hgetall(key)).toEqual(before);
    expect(countsOf(await sessionRows(h.rt.dbs, ready.tenant_ids))).toEqual(manifest.counts);
  });

  it('two runs of the same job at once leave exactly one copy', async () => {
    const manifest = await readManifest('professional');
    // A fresh session whose first service job is held mid-transaction by a first run…
    const sessionId = randomUUID();
    const data: SessionJobData = {
      ...sessionData(ready),
      sessionId,
      createdAt: new Date().toISOString(),
      tenantIds: [],
    };
    const blocker = await h.rt.dbs.pool('inventory').connect();
    await blocker.query('BEGIN');
    await blocker.query(`INSERT INTO demo_seed.session_loads (session_id, state) VALUES ($1, 'loaded')`, [sessionId]);
    // …while two more deliveries of the same job start side by side and queue up behind it.
    const runs = [runJob(data, 'inventory', `${sessionId}-a`), runJob(data, 'inventory', `${sessionId}-b`)];
    const waiting = async () =>
      Number(
        (
          await h.rt.dbs
            .pool('inventory')
            .query(
              `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`,
            )
        ).rows[0].n,
      );
    const deadline = Date.now() + 10_000;
    while ((await waiting()) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await waiting()).toBe(2);
    // The first run dies (its transaction rolls back): the other two race for the load.
    await blocker.query('ROLLBACK');
    blocker.release();

    const results = await Promise.all(runs);
    expect(results.map((r) => r.already_loaded).sort()).toEqual([false, true]);
    expect(results[0]!.rows).toBe(results[1]!.rows);
    const tenantIds = manifest.tenants.map((t) => idMapperFor(sessionId)(t.id));
    expect(countsOf(await sessionRows(h.rt.dbs, tenantIds))).toEqual({ inventory: manifest.counts.inventory });
  });
});
