import { expect, it } from 'vitest';
import { leftoverCount } from '../support/data-rules.ts';
import {
  armCommitFault,
  backends,
  checkSessions,
  scenarioWorld,
  describeFaults,
  TEST_TIMEOUT_MS,
  disarmCommitFault,
  failedAttempts,
  getSession,
  httpJson,
  installCommitFaults,
  ownerOfClientPort,
  pick,
  postSession,
  QUICK,
  recordRecovery,
  stallParentUntilFailed,
  terminateBackend,
  waitFor,
  waitForAll,
} from './support.ts';

/**
 * Scenario 6: a cleanup (DELETE /api/v1/demo-sessions/{id}) interrupted half-way: the
 * later load waves' databases are already cleaned, the sales database's cleanup
 * transaction has deleted its rows and sits in its COMMIT (held open 4 s by the test's
 * commit trigger) when
 * - the worker process running it is SIGKILLed, or
 * - its PostgreSQL backend is terminated.
 * The transaction rolls back; the cleanup job is retried (after the lock expires, or
 * after its backoff) and finishes: status `destroyed`, no row, no ID map left.
 */
const SCALE = pick(120, 40);
const BOUND_MS = 120_000;

describeFaults('scenario 6: a cleanup interrupted half-way resumes and finishes', () => {
  const sc = scenarioWorld({
    tag: 'cleanup',
    seed: 6,
    scale: SCALE,
    workers: 2,
    // MAX_STALLED_COUNT 2: the parent fails for good after 3 stalls, while its stale runs
    // (blocked on the session row) still leave a free slot of the session queue's 2 x 3 to fail it in.
    overrides: { MAX_STALLED_COUNT: '2' },
    prepare: (w) => installCommitFaults(w.h, ['sales']),
  });

  it.skipIf(QUICK)(
    'the cleanup parent job failed for good (stalled more than maxStalledCount) after every database was cleaned: the session still ends destroyed',
    async () => {
      const { h, fleet } = sc.w;
      const crashMark = fleet.crashes.length;
      const api = fleet.url();
      const id = await postSession(api);
      expect([...(await waitForAll(h, [id], BOUND_MS)).values()][0]?.view.status).toBe('ready');
      // The cleanup's last step (marking the session) is held on the session row, so its
      // run stays active while its lock is taken away again and again, until BullMQ fails it.
      await armCommitFault(h, 'sales', id, 'slow'); // time to take the row after the 202
      expect((await httpJson('DELETE', `${api}/api/v1/demo-sessions/${id}`)).status).toBe(202);
      const holder = await h.rt.dbs.pool('demo_session').connect();
      let reason: string;
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM demo_sessions WHERE session_id = $1 FOR UPDATE', [id]);
        await disarmCommitFault(h, 'sales', id);
        reason = await stallParentUntilFailed(h, `${id}-cleanup`, 'UPDATE demo_sessions SET status = $2%');
      } finally {
        await holder.query('ROLLBACK').catch(() => undefined);
        holder.release();
      }
      const failedAt = Date.now();
      console.log(
        `scenario 6: cleanup job of ${id} failed: ${reason}; rows left: ${await leftoverCount(h.rt.dbs, (await h.rt.producer.view(id))?.tenant_ids ?? [])}`,
      );
      // Every database is clean already; the session must not stay `destroying` (a reconciler pass is 0.5 s).
      const [gone] = (await waitForAll(h, [id], 30_000, ['destroyed'])).values();
      await checkSessions(h, [id], sc.facts, { accept: ['destroyed'] });
      recordRecovery('cleanup-parent-failed: failed for good -> destroyed', (gone?.endedAt ?? failedAt) - failedAt);
      expect(fleet.crashReport(crashMark)).toBe('');
    },
    TEST_TIMEOUT_MS,
  );

  for (const fault of ['SIGKILL of the worker', 'pg_terminate_backend'] as const) {
    it.skipIf(QUICK && fault === 'pg_terminate_backend')(
      `${fault} in the sales cleanup's COMMIT: resumed, destroyed, nothing left`,
      async () => {
        const { h, fleet } = sc.w;
        const crashMark = fleet.crashes.length;
        const api = fleet.url();
        const id = await postSession(api);
        const [loaded] = (await waitForAll(h, [id], BOUND_MS)).values();
        expect(loaded?.view.status).toBe('ready');
        const tenants = loaded?.view.tenant_ids ?? [];

        await armCommitFault(h, 'sales', id, 'slow');
        const del = await httpJson('DELETE', `${api}/api/v1/demo-sessions/${id}`);
        expect(del.status).toBe(202);
        const b = await waitFor(
          'the sales cleanup to sit in its COMMIT',
          async () =>
            (await backends(h, { datname: `${h.cfg.DB_NAME_PREFIX}sales`, queryLike: '%COMMIT%' })).find(
              (x) => x.wait_event === 'PgSleep',
            ),
          60_000,
          10,
        );
        const owner = b.client_port ? await ownerOfClientPort(fleet, b.client_port) : undefined;
        expect(owner, 'the worker running the sales cleanup').toBeDefined();
        if (fault === 'SIGKILL of the worker') await fleet.kill(owner as string, 'SIGKILL');
        else expect(await terminateBackend(h, b.pid)).toBe(true);
        const at = Date.now();
        await disarmCommitFault(h, 'sales', id);
        // Half-way: some databases cleaned, the rest (sales rolled back included) still there.
        const sales = await h.rt.dbs
          .pool('sales')
          .query<{ n: string }>('SELECT count(*) AS n FROM sales_daily WHERE tenant_id = ANY($1::uuid[])', [tenants]);
        expect(Number(sales.rows[0]?.n), 'sales rows back after the rollback').toBe(sc.facts.serviceRows.sales);
        const orchestrator = await h.rt.dbs
          .pool('orchestrator')
          .query<{ n: string }>('SELECT count(*) AS n FROM orchestration_runs WHERE tenant_id = ANY($1::uuid[])', [
            tenants,
          ]);
        expect(Number(orchestrator.rows[0]?.n), 'orchestrator (cleaned first) already empty').toBe(0);
        expect(await leftoverCount(h.rt.dbs, tenants)).toBeGreaterThan(0);
        expect((await getSession(api, id)).status).toBe('destroying');

        if (fault === 'SIGKILL of the worker') await fleet.restart(owner as string);
        const [gone] = (await waitForAll(h, [id], BOUND_MS, ['destroyed'])).values();
        await checkSessions(h, [id], sc.facts, { accept: ['destroyed'] });
        expect((await getSession(api, id)).status).toBe('destroyed');
        if (fault === 'pg_terminate_backend')
          expect(
            (await failedAttempts(fleet, /terminat/i, at - 5000)).some((j) => j.id === `${id}-cleanup-sales`),
            'the cleanup attempt failed and was retried',
          ).toBe(true);
        recordRecovery(
          `cleanup-interrupted (${fault === 'SIGKILL of the worker' ? 'sigkill' : 'pg_terminate_backend'}): fault -> destroyed, nothing left`,
          (gone?.endedAt ?? at) - at,
        );
        expect(fleet.crashReport(crashMark)).toBe('');
      },
      TEST_TIMEOUT_MS,
    );
  }
});
