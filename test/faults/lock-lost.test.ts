import { expect, it } from 'vitest';
import {
  allSessionIds,
  armCommitFault,
  backends,
  checkSessions,
  scenarioWorld,
  describeFaults,
  TEST_TIMEOUT_MS,
  disarmCommitFault,
  installCommitFaults,
  ownerOfClientPort,
  pick,
  postSession,
  QUICK,
  recordRecovery,
  stallParentUntilFailed,
  redisClient,
  waitFor,
  waitForAll,
  type Backend,
} from './support.ts';

/**
 * Scenario 4: a running job loses its lock, so BullMQ hands it to a second worker
 * while the first still runs it: two runs of the same service job at the same time.
 * The load marker makes the second wait for the first's transaction and then load
 * nothing: exact counts, no duplicate, one `already_loaded` run.
 * - a worker process frozen (SIGSTOP) in the middle of its sales COPY for longer than
 *   LOCK_DURATION_MS, then resumed (SIGCONT): as a long GC pause or a starved event loop;
 * - the job's lock key deleted from Redis (`<prefix>:sales:<jobId>:lock`) while the run
 *   sits in its COMMIT (held open 4 s by the test's commit trigger).
 */
const SCALE = pick(120, 40);
const BOUND_MS = 120_000;

describeFaults('scenario 4: a job whose lock is lost runs twice at the same time', () => {
  const sc = scenarioWorld({
    tag: 'lock',
    seed: 4,
    scale: SCALE,
    workers: 2,
    // MAX_STALLED_COUNT 2: a parent fails for good after 3 stalls, while its stale runs still
    // leave a free slot of the session queue (2 workers x 3) to fail it in.
    overrides: { MAX_STALLED_COUNT: '2' },
    prepare: (w) => installCommitFaults(w.h, ['sales', 'tenant']),
    // The API parses the profile once; each test then has the only session loading.
    firstSession: true,
  });

  async function newSession(): Promise<string> {
    const before = new Set(await allSessionIds(sc.w.h));
    await postSession(sc.w.fleet.url());
    const id = (await allSessionIds(sc.w.h)).find((x) => !before.has(x));
    if (!id) throw new Error('no session created');
    return id;
  }

  /** The second run of the job, blocked on the first run's uncommitted marker row. */
  const secondRunWaiting = async (): Promise<Backend | undefined> =>
    (await backends(sc.w.h, { datname: `${sc.w.h.cfg.DB_NAME_PREFIX}sales` })).find(
      (b) => b.wait_event_type === 'Lock' && b.query.includes('INSERT INTO demo_seed.session_loads'),
    );

  async function expectTwoRuns(id: string): Promise<void> {
    const salesRuns = () => sc.w.fleet.logLines((l) => l.session_id === id && l.msg === 'service sales loaded');
    // The session may be ready before the slower of the two runs has finished.
    await waitFor(
      'both runs of the sales job to finish',
      () => (salesRuns().length >= 2 ? true : undefined),
      30_000,
      100,
    ).catch(() => undefined);
    const runs = salesRuns();
    console.log(
      `scenario 4: runs of ${id}-sales: ${JSON.stringify(runs.map((r) => ({ proc: r.proc, attempt: r.attempt, rows: r.rows, already_loaded: r.already_loaded })))}`,
    );
    const related = sc.w.fleet.logLines(
      (l) => JSON.stringify(l).includes(`${id}-sales`) && l.msg !== 'service sales loaded',
    );
    if (related.length)
      console.log(related.map((l) => `${l.proc} ${String(l.time)} ${String(l.msg)} ${String(l.err ?? '')}`).join('\n'));
    // Both runs got to the end of the handler: one loaded the rows, the other found them loaded.
    expect(runs.map((r) => r.already_loaded).sort()).toEqual([false, true]);
    for (const r of runs) expect(r.rows).toBe(sc.facts.serviceRows.sales);
  }

  it.skipIf(QUICK)(
    'a worker frozen (SIGSTOP) longer than LOCK_DURATION_MS mid-COPY, then resumed (SIGCONT)',
    async () => {
      const { h, fleet } = sc.w;
      const crashMark = fleet.crashes.length;
      const id = await newSession();
      const copy = await waitFor(
        'the sales COPY',
        async () => {
          for (const b of await backends(h, {
            datname: `${h.cfg.DB_NAME_PREFIX}sales`,
            queryLike: 'COPY %',
            state: 'active',
          })) {
            const owner = b.client_port ? await ownerOfClientPort(fleet, b.client_port) : undefined;
            if (owner) return owner;
          }
          return undefined;
        },
        60_000,
        5,
      );
      await fleet.kill(copy, 'SIGSTOP');
      const stoppedAt = Date.now();
      try {
        // The lock runs out; the stalled checker hands the job to the other worker, whose run waits on the marker row.
        await waitFor(
          "the second run to wait on the first run's marker",
          secondRunWaiting,
          h.cfg.LOCK_DURATION_MS + 4 * h.cfg.STALLED_INTERVAL_MS + 15_000,
          20,
        );
        recordRecovery('lock-lost-sigstop: freeze -> job running again on another worker', Date.now() - stoppedAt);
      } finally {
        await fleet.kill(copy, 'SIGCONT');
      }
      const resumedAt = Date.now();
      const [ended] = (await waitForAll(h, [id], BOUND_MS)).values();
      expect(ended?.view.status, ended?.view.error ?? '').toBe('ready');
      await checkSessions(h, [id], sc.facts, { accept: ['ready'] });
      await expectTwoRuns(id);
      recordRecovery('lock-lost-sigstop: resume -> session ready', (ended?.endedAt ?? resumedAt) - resumedAt, {
        frozen_ms: resumedAt - stoppedAt,
      });
      expect(fleet.crashReport(crashMark)).toBe('');
    },
    TEST_TIMEOUT_MS,
  );

  it.skipIf(QUICK)(
    "the session's parent job failed for good (stalled more than MAX_STALLED_COUNT): the flow is redone and the session ends ready",
    async () => {
      const { h, fleet } = sc.w;
      const crashMark = fleet.crashes.length;
      const id = await newSession();
      // The parent's next write to the session row (loading, or ready) is held on that row,
      // so its run stays active while its lock is taken away again and again.
      await armCommitFault(h, 'tenant', id, 'slow'); // wave 1 waits: time to take the row first
      const holder = await h.rt.dbs.pool('demo_session').connect();
      let reason: string;
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM demo_sessions WHERE session_id = $1 FOR UPDATE', [id]);
        await disarmCommitFault(h, 'tenant', id);
        reason = await stallParentUntilFailed(h, id, 'UPDATE demo_sessions SET status%');
      } finally {
        await holder.query('ROLLBACK').catch(() => undefined);
        holder.release();
      }
      const failedAt = Date.now();
      console.log(`scenario 4: the parent of ${id} failed: ${reason}`);
      const [ended] = (await waitForAll(h, [id], BOUND_MS)).values();
      expect(ended?.view.status, ended?.view.error ?? '').toBe('ready');
      await checkSessions(h, [id], sc.facts, { accept: ['ready'] });
      recordRecovery('session-parent-failed: failed for good -> ready', (ended?.endedAt ?? failedAt) - failedAt);
      expect(fleet.crashReport(crashMark)).toBe('');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'the lock key deleted from Redis while the run commits',
    async () => {
      const { h, fleet } = sc.w;
      const crashMark = fleet.crashes.length;
      const id = await newSession();
      await armCommitFault(h, 'sales', id, 'slow');
      const redis = redisClient(sc.w.redis.url);
      try {
        await waitFor(
          'the sales COMMIT to be held open',
          async () =>
            (await backends(h, { datname: `${h.cfg.DB_NAME_PREFIX}sales`, queryLike: '%COMMIT%' })).find(
              (b) => b.wait_event === 'PgSleep',
            ),
          60_000,
          10,
        );
        const lockKey = `${h.cfg.QUEUE_PREFIX}:sales:${id}-sales:lock`;
        expect(await redis.del(lockKey), 'the lock of the running job').toBe(1);
        const deletedAt = Date.now();
        await disarmCommitFault(h, 'sales', id);
        await waitFor(
          "the second run to wait on the first run's marker",
          secondRunWaiting,
          4 * h.cfg.STALLED_INTERVAL_MS + 10_000,
          10,
        );
        recordRecovery('lock-lost-del: lock deleted -> second run started', Date.now() - deletedAt);
        const [ended] = (await waitForAll(h, [id], BOUND_MS)).values();
        expect(ended?.view.status, ended?.view.error ?? '').toBe('ready');
        await checkSessions(h, [id], sc.facts, { accept: ['ready'] });
        await expectTwoRuns(id);
        recordRecovery('lock-lost-del: lock deleted -> session ready', (ended?.endedAt ?? deletedAt) - deletedAt);
      } finally {
        redis.disconnect();
      }
      expect(fleet.crashReport(crashMark)).toBe('');
    },
    TEST_TIMEOUT_MS,
  );
});
