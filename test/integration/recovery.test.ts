import { randomUUID } from 'node:crypto';
import { FlowProducer, Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES } from '../../src/catalog/services.ts';
import { deleteKeysMatching } from '../../src/redis/keys.ts';
import { countsOf, leftoverCount, sessionRows } from '../support/data-rules.ts';
import { createHarness, eventually, type Harness } from '../support/harness.ts';
import { readManifest, recordSession, waitForEnd } from '../support/sessions.ts';
import { SESSION_QUEUE } from '../../src/flows/jobs.ts';
import { createFlowProducer } from '../../src/flows/queues.ts';
import { getSession, sessionsToReconcile } from '../../src/db/sql/sessions.ts';
import { workerContext } from '../../src/runtime/context.ts';
import { reconcileOnce } from '../../src/workers/reconciler.ts';

/** The reconciler repairs what a lost Redis or a stuck flow leaves behind. */
describe('recovery of lost jobs', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness({ RECONCILE_INTERVAL_MS: '300', DEMO_SESSION_TTL_SECONDS: '8' });
  });
  afterAll(async () => {
    await h?.close();
  });

  const flushPrefix = () => deleteKeysMatching(h.rt.redis, `${h.cfg.QUEUE_PREFIX}:*`);

  it('rebuilds a session whose queues and ID maps were lost mid-load; it ends ready with exact counts', async () => {
    const manifest = await readManifest('professional');
    // Only the first wave can run: the session stops half-loaded…
    const first = await h.startWorkers(['tenant', 'inventory', 'suppliers']);
    const s = await h.rt.producer.create({ profile: 'professional' });
    await eventually(
      async () => ((await h.rt.producer.view(s.session_id))?.services.inventory.status === 'ready' ? true : undefined),
      20_000,
      'wave 1',
    );
    await first.close();
    // …then Redis loses everything of this deployment (as a restart without persistence would).
    expect(await flushPrefix()).toBeGreaterThan(0);
    await h.startWorkers();
    const v = await waitForEnd(h, s.session_id, 30_000);
    expect(v.status, v.error ?? '').toBe('ready');
    expect(countsOf(await sessionRows(h.rt.dbs, v.tenant_ids))).toEqual(manifest.counts);
  });

  it('restores a lost expiry, so the session still expires and leaves nothing', async () => {
    const s = await h.rt.producer.create({ profile: 'professional' });
    const v = await waitForEnd(h, s.session_id);
    expect(v.status).toBe('ready');
    await h.rt.redis.del(`${h.cfg.QUEUE_PREFIX}:demo-session:${s.session_id}-expire`);
    await eventually(
      async () => {
        const x = await h.rt.producer.view(s.session_id);
        return x?.status === 'expired' ? x : undefined;
      },
      30_000,
      'expiry',
    );
    expect(await leftoverCount(h.rt.dbs, v.tenant_ids)).toBe(0);
  });
});

describe('a session stuck loading', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ RECONCILE_INTERVAL_MS: '300', SESSION_LOAD_TIMEOUT_SECONDS: '8' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('fails a session stuck loading past SESSION_LOAD_TIMEOUT_SECONDS and removes what it loaded', async () => {
    // Nothing serves forecasting: the session cannot finish.
    await h.startWorkers(SERVICES.filter((x) => x !== 'forecasting'));
    const s = await h.rt.producer.create({ profile: 'professional' });
    const v = await waitForEnd(h, s.session_id, 30_000);
    expect(v.status).toBe('failed');
    expect(v.error).toMatch(/did not finish within 8 s/);
    expect(v.services.sales.status).toBe('removed');
    expect(await leftoverCount(h.rt.dbs, v.tenant_ids)).toBe(0);
  });
});

describe('the reconciler with more live sessions than it checks in one run', () => {
  let h: Harness;
  let queue: Queue;
  let flows: FlowProducer;
  beforeAll(async () => {
    h = await createHarness();
    queue = new Queue(SESSION_QUEUE, { connection: h.rt.redis, prefix: h.cfg.QUEUE_PREFIX });
    flows = createFlowProducer(h.cfg, h.rt.redis);
  });
  afterAll(async () => {
    await queue?.close();
    await flows?.close();
    await h?.close();
  });

  it('looks at every unfinished session and every overdue one on each run, and walks through the other live ones a page a run', async () => {
    const db = h.rt.dbs.pool('demo_session');
    const w = workerContext(h.cfg, h.rt.dbs, h.rt.redis, h.rt.log);
    // Five ready sessions whose expiry jobs were lost, all changed long ago…
    const live: string[] = [];
    for (let i = 0; i < 5; i++)
      live.push((await recordSession(h, { expires_at: new Date(Date.now() + 600_000) })).session_id);
    // …one overdue, last in id order (so never on the first page)…
    const overdue = (
      await recordSession(h, {
        session_id: `ffffffff-ffff-4fff-bfff-${randomUUID().slice(-12)}`,
        expires_at: new Date(Date.now() - 60_000),
      })
    ).session_id;
    await db.query(
      `UPDATE demo_sessions SET status = 'ready', updated_at = now() - interval '1 hour' WHERE session_id = ANY($1)`,
      [[...live, overdue]],
    );
    // …and one stuck loading past the timeout, changed after all of them.
    const stuck = (await recordSession(h, { created_at: new Date(Date.now() - 3_600_000) })).session_id;
    await db.query(`UPDATE demo_sessions SET status = 'loading' WHERE session_id = $1`, [stuck]);

    // What it reads of each: not the services and phases a ready record carries.
    const { sessions } = await sessionsToReconcile(db, h.cfg.QUEUE_PREFIX, {
      limit: 10,
      page: 2,
      after: null,
      overdueMs: 0,
    });
    expect(sessions.map((s) => s.session_id)).toContain(stuck);
    for (const s of sessions)
      expect(Object.keys(s).sort()).toEqual([
        'created_at',
        'data_dir',
        'demo_account_type',
        'ending',
        'expires_at',
        'session_id',
        'status',
        'subscription_tier',
        'tenant_ids',
        'updated_at',
      ]);

    const opts = { intervalMs: 1_000, loadTimeoutMs: 60_000, graceMs: 0, page: 2, limit: 10 };
    const run = async (cursor: string | null) => {
      await h.rt.redis.del(`${h.cfg.QUEUE_PREFIX}:reconciler:lock`);
      return reconcileOnce(w, flows, queue, opts, cursor);
    };
    const first = await run(null);
    expect(first.timedOut).toEqual([stuck]);
    expect(first.expiries).toContain(overdue);
    expect(first.expiries.filter((id) => live.includes(id))).toHaveLength(2);
    expect((await getSession(db, overdue))?.status).toBe('destroying');

    const repaired = new Set(first.expiries);
    let cursor = first.next;
    for (let i = 0; i < 3; i++) {
      const r = await run(cursor);
      r.expiries.forEach((id) => repaired.add(id));
      cursor = r.next;
    }
    for (const id of live) {
      expect(repaired.has(id), `${id} checked`).toBe(true);
      expect(await queue.getJob(`${id}-expire`), `${id}'s expiry job`).toBeTruthy();
    }
  });
});
