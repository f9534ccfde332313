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
  failedAttempts,
  getSession,
  httpJson,
  installCommitFaults,
  jobsDone,
  pick,
  postSession,
  QUICK,
  recordRecovery,
  serviceReady,
  sleep,
  terminateBackend,
  waitFor,
  waitForAll,
} from './support.ts';

/**
 * Scenario 3: PostgreSQL misbehaving under the loads, on a throw-away cluster of our own
 * (initdb; the shared cluster on 5432 is never stopped).
 * - backends terminated (pg_terminate_backend) in the middle of a COPY (held 300 ms by a
 *   statement trigger, so the terminate lands while it runs);
 * - a backend terminated during COMMIT, before the commit is durable (rolled back), and
 *   after it is durable but before the worker hears of it (the retry must find the
 *   marker and load nothing);
 * - the server stopped (`pg_ctl stop -m fast`, and `-m immediate`, i.e. a crash) and
 *   started again while sessions load.
 *
 * The COMMIT windows are opened with a deferred constraint trigger on the marker table,
 * installed by this test in its own databases and armed per session: it sleeps inside
 * COMMIT (`slow`), or raises the transaction's synchronous_commit so that, with a
 * synchronous standby that never comes (`synchronous_standby_names = ghost`, every
 * other transaction committing `local`), the commit is written and then waits (`ack`).
 */
const SCALE = pick(120, 40);
const BOUND_MS = 120_000;

describeFaults('scenario 3: PostgreSQL backends terminated, server stopped and started', () => {
  const sc = scenarioWorld({
    tag: 'pg',
    seed: 3,
    scale: SCALE,
    workers: 3,
    world: { pgSettings: ['synchronous_standby_names=ghost', 'synchronous_commit=local'] },
    prepare: (w) => installCommitFaults(w.h),
    firstSession: true, // the API parses the profile once
  });

  async function createSessions(n: number): Promise<string[]> {
    const before = new Set(await allSessionIds(sc.w.h));
    await Promise.all(Array.from({ length: n }, () => postSession(sc.w.fleet.url())));
    return (await allSessionIds(sc.w.h)).filter((id) => !before.has(id));
  }

  /**
   * A statement trigger that sleeps at the start of every COPY into sales_daily: the
   * rows follow the statement at once, so without it a COPY may be done before the
   * terminate lands, and nothing fails.
   */
  async function slowSalesCopy(on: boolean): Promise<void> {
    const db = sc.w.h.rt.dbs.pool('sales');
    if (!on) {
      await db.query('DROP TRIGGER IF EXISTS fault_slow_copy ON sales_daily');
      return;
    }
    await db.query(`
      CREATE OR REPLACE FUNCTION demo_seed.fault_slow_copy() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_sleep(0.3);
        RETURN NULL;
      END $$;
      CREATE OR REPLACE TRIGGER fault_slow_copy BEFORE INSERT ON sales_daily FOR EACH STATEMENT EXECUTE FUNCTION demo_seed.fault_slow_copy();
      -- ALWAYS: the loads run as replica (LOAD_FK_CHECKS=skip), where ordinary triggers do not fire.
      ALTER TABLE sales_daily ENABLE ALWAYS TRIGGER fault_slow_copy;`);
  }

  it(
    'backends terminated during COPY: the attempts fail, are retried, and every session ends ready with exact counts',
    async () => {
      const { h, fleet } = sc.w;
      const crashMark = fleet.crashes.length;
      await slowSalesCopy(true);
      try {
        await terminateDuringCopy(h, fleet, crashMark);
      } finally {
        await slowSalesCopy(false);
      }
    },
    TEST_TIMEOUT_MS,
  );

  async function terminateDuringCopy(h: typeof sc.w.h, fleet: typeof sc.w.fleet, crashMark: number): Promise<void> {
    const ids = await createSessions(pick(8, 3));
    const since = Date.now();
    const terminated: { at: number; datname: string }[] = [];
    // Sessions load in a fraction of a second: when every one has ended before enough
    // backends were caught in a COPY, one more is created.
    const loading = async () =>
      (
        await h.rt.dbs
          .pool('demo_session')
          .query<{ n: number }>(
            `SELECT count(*)::int AS n FROM demo_sessions WHERE session_id = ANY($1) AND status IN ('pending', 'loading')`,
            [ids],
          )
      ).rows[0]?.n ?? 0;
    while (terminated.length < pick(6, 2)) {
      const b = await waitFor(
        'an active COPY',
        async () => {
          // The sales COPY is held 300 ms by slowSalesCopy: caught while it runs.
          const copy = (await backends(h, { queryLike: 'COPY "sales_daily"%', state: 'active' }))[0];
          if (!copy && (await loading()) === 0) ids.push(...(await createSessions(1)));
          return copy;
        },
        60_000,
        10,
      );
      if (await terminateBackend(h, b.pid)) terminated.push({ at: Date.now(), datname: b.datname });
      await sleep(pick(700, 500));
    }
    const ended = await waitForAll(h, ids, BOUND_MS);
    const tally = await checkSessions(h, ids, sc.facts);
    const hit = await failedAttempts(fleet, /terminat/i, since);
    console.log(
      `scenario 3 (terminate during COPY): ${terminated.length} backends terminated (${terminated.map((t) => t.datname.replace(h.cfg.DB_NAME_PREFIX, '')).join(' ')}), ${hit.length} job attempts failed with it -> ${JSON.stringify(tally)}`,
    );
    expect(
      hit.length + fleet.crashes.length - crashMark,
      'attempts (or processes) that saw their backend terminated',
    ).toBeGreaterThan(0);
    expect(tally.ready, 'a terminated backend is retried, not a failed session').toBe(ids.length);
    const first = terminated[0]?.at ?? since;
    recordRecovery(
      'pg-terminate-during-copy: terminate -> the failed jobs done again',
      await jobsDone(h, hit, first, BOUND_MS),
      { terminated: terminated.length, jobs: hit.length },
    );
    recordRecovery(
      'pg-terminate-during-copy: last terminate -> every session ended',
      Math.max(...[...ended.values()].map((e) => e.endedAt)) - (terminated.at(-1)?.at ?? since),
    );
    expect(fleet.crashReport(crashMark), 'worker processes must survive losing a database connection').toBe('');
  }

  it(
    'a backend terminated while its load transaction waits between statements (the worker encoding its COPY): retried, ready, and the worker survives',
    async () => {
      const { h, fleet } = sc.w;
      const crashMark = fleet.crashes.length;
      // Workers hold the sales COPY for 3 s after the claim (BEGIN; INSERT marker), as a worker
      // busy encoding would: the transaction is idle, no query waits for an answer when the
      // server ends it (test/faults/pause-copy.mjs).
      fleet.pauseCopy('sales_daily', 3_000);
      const [id] = await createSessions(1);
      if (!id) throw new Error('no session created');
      const b = await waitFor(
        'the sales load transaction idle after its claim',
        async () =>
          (await backends(h, { datname: `${h.cfg.DB_NAME_PREFIX}sales`, state: 'idle in transaction' })).find((x) =>
            x.query.includes('INSERT INTO demo_seed.session_loads'),
          ),
        60_000,
        20,
      ).finally(() => fleet.resumeCopy());
      expect(await terminateBackend(h, b.pid)).toBe(true);
      const at = Date.now();
      const [ended] = (await waitForAll(h, [id], BOUND_MS)).values();
      await checkSessions(h, [id], sc.facts, { accept: ['ready'] });
      recordRecovery('pg-terminate-idle-in-transaction: terminate -> session ready', (ended?.endedAt ?? at) - at);
      expect(fleet.crashReport(crashMark), 'worker processes must survive losing a database connection').toBe('');
    },
    TEST_TIMEOUT_MS,
  );

  for (const kind of ['slow', 'ack'] as const) {
    const what =
      kind === 'slow'
        ? 'before the commit is durable: rolled back, loaded again'
        : 'after the commit is durable, before the worker hears: the retry finds the marker and loads nothing';
    it.skipIf(QUICK && kind === 'slow')(
      `a backend terminated during COMMIT, ${what}`,
      async () => {
        const { h, fleet } = sc.w;
        const crashMark = fleet.crashes.length;
        const [id] = await createSessions(1);
        if (!id) throw new Error('no session created');
        const sales = h.rt.dbs.pool('sales');
        await armCommitFault(h, 'sales', id, kind);
        const waitEvent = kind === 'slow' ? 'PgSleep' : 'SyncRep';
        const b = await waitFor(
          `the sales COMMIT of ${id} to wait (${waitEvent})`,
          async () =>
            (await backends(h, { datname: `${h.cfg.DB_NAME_PREFIX}sales`, queryLike: '%COMMIT%' })).find(
              (x) => x.wait_event === waitEvent,
            ),
          60_000,
          10,
        );
        // 'ack': the marker must be read after the backend is gone (its commit visible).
        expect(await terminateBackend(h, b.pid, { waitForExit: kind === 'ack' })).toBe(true);
        const at = Date.now();
        await disarmCommitFault(h, 'sales', id);
        const committed = (await sales.query(`SELECT state FROM demo_seed.session_loads WHERE session_id = $1`, [id]))
          .rows[0]?.state as string | undefined;
        expect(committed, 'marker after the terminated COMMIT').toBe(kind === 'slow' ? undefined : 'loaded');

        const [ended] = (await waitForAll(h, [id], BOUND_MS)).values();
        await checkSessions(h, [id], sc.facts, { accept: ['ready'] });
        // The terminated run never completed: the one run that did is the retry (after a failed
        // attempt, or after a stall if the worker process died with the connection).
        const runs = await fleet.settledLogLines((l) => l.session_id === id && l.msg === 'service sales loaded');
        console.log(
          `scenario 3 (terminate during COMMIT, ${kind}): sales runs ${JSON.stringify(runs.map((r) => ({ proc: r.proc, attempt: r.attempt, rows: r.rows, already_loaded: r.already_loaded })))}`,
        );
        expect(runs.length).toBe(1);
        expect(
          runs[0]?.already_loaded,
          kind === 'slow' ? 'nothing was committed: loaded again' : 'committed: the retry loads nothing',
        ).toBe(kind === 'ack');
        recordRecovery(
          `pg-terminate-during-commit (${kind === 'slow' ? 'not yet durable' : 'durable, ack lost'}): terminate -> session ready`,
          (ended?.endedAt ?? at) - at,
        );
        expect(fleet.crashReport(crashMark), 'worker processes must survive losing a database connection').toBe('');
      },
      TEST_TIMEOUT_MS,
    );
  }

  for (const mode of QUICK ? (['fast'] as const) : (['fast', 'immediate'] as const)) {
    it(
      `PostgreSQL stopped (-m ${mode}) for ${pick(3, 2)} s during loads and started again: every session ends ready, or failed with nothing left`,
      async () => {
        const { h, fleet, pg } = sc.w;
        const crashMark = fleet.crashes.length;
        const ids = await createSessions(pick(8, 3));
        await waitFor(
          'a first service loaded',
          async () =>
            (await Promise.all(ids.map((id) => serviceReady(h, id, 'inventory')))).some(Boolean) ? true : undefined,
          60_000,
          50,
        );
        await pg.stop(mode);
        const downAt = Date.now();
        // The API cannot read sessions now: it must answer an error, not hang or crash.
        const during = await httpJson('GET', `${fleet.url()}/api/v1/demo-sessions/${ids[0]}`);
        expect(during.status).toBeGreaterThanOrEqual(500);
        await sleep(pick(3000, 2000) - (Date.now() - downAt));
        await pg.start();
        const upAt = Date.now();
        const apiBack = await waitFor(
          'the API reading sessions again',
          async () =>
            (await httpJson('GET', `${fleet.url()}/api/v1/demo-sessions/${ids[0]}`)).status === 200
              ? Date.now()
              : undefined,
          30_000,
          50,
        );
        const ended = await waitForAll(h, ids, BOUND_MS);
        const tally = await checkSessions(h, ids, sc.facts);
        for (const id of ids) expect((await getSession(fleet.url(), id)).status).toBe(ended.get(id)?.view.status);
        for (const n of ['w1', 'w2', 'w3'])
          expect((await httpJson('GET', `http://127.0.0.1:${fleet.get(n).port}/readyz`)).status).toBe(200);
        const retried = await failedAttempts(
          fleet,
          /ECONNREFUSED|terminat|shutting down|Connection terminated|connect/i,
          downAt - 1000,
        );
        console.log(
          `scenario 3 (stop -m ${mode}): ${ids.length} sessions -> ${JSON.stringify(tally)}; ${retried.length} job attempts failed while it was down`,
        );
        recordRecovery(`pg-stop-${mode}: PostgreSQL back -> API answers GET`, apiBack - upAt, {
          down_ms: upAt - downAt,
        });
        recordRecovery(
          `pg-stop-${mode}: PostgreSQL back -> every session ended`,
          Math.max(...[...ended.values()].map((e) => e.endedAt)) - upAt,
          { sessions: ids.length, ...tally },
        );
        expect(fleet.crashReport(crashMark), 'processes must survive a PostgreSQL restart').toBe('');
      },
      TEST_TIMEOUT_MS,
    );
  }
});
