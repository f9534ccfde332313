import { expect, it } from 'vitest';
import {
  allSessionIds,
  backends,
  checkSessions,
  scenarioWorld,
  describeFaults,
  TEST_TIMEOUT_MS,
  activeJobs,
  httpJson,
  jobsDone,
  orphanedJobs,
  ownerOfClientPort,
  pick,
  postSession,
  recordRecovery,
  sleep,
  stats,
  waitFor,
  waitForAll,
} from './support.ts';

/**
 * Scenario 1: worker processes SIGKILLed in the middle of a COPY, again and again,
 * while 30 sessions load on 3 `demo-seed worker` processes behind `demo-seed api`;
 * each killed worker is started again. Every session must end ready with exact
 * counts (or failed with nothing left) within the bound, and every worker recover.
 */
const SESSIONS = pick(30, 8);
const KILLS = pick(6, 2);
/** 32,400 sales rows per session: COPYs long enough to be caught, short enough for the budget. */
const SCALE = pick(120, 80);
const KILL_EVERY_MS = pick(2500, 1500);
/** Kills that must have happened (the load may end before all KILLS on a fast machine). */
const MIN_KILLS = pick(4, 1);
/** No session may stay unfinished longer than this after it was created (SESSION_LOAD_TIMEOUT_SECONDS is 90). */
const BOUND_MS = 120_000;

describeFaults('scenario 1: SIGKILL of worker processes during COPY', () => {
  const sc = scenarioWorld({ tag: 'sigkill', seed: 7, scale: SCALE, workers: 3 });

  it(
    `${SESSIONS} sessions, ${KILLS} workers killed mid-COPY and restarted: each ready with exact counts or failed with nothing left`,
    async () => {
      const { h, fleet } = sc.w;
      const api = fleet.url();
      // The first POST makes the API parse the profile; the rest go in together.
      await postSession(api);
      await Promise.all(Array.from({ length: SESSIONS - 1 }, () => postSession(api)));
      const ids = await allSessionIds(h);
      expect(ids.length).toBeGreaterThanOrEqual(SESSIONS);

      interface Kill {
        worker: string;
        database: string;
        at: number;
        orphans: string[];
        handedOutMs?: number;
        recoveredMs?: number;
        restartMs?: number;
      }
      const kills: Kill[] = [];
      const pending: Promise<unknown>[] = [];
      while (kills.length < KILLS) {
        const alive = ['w1', 'w2', 'w3'].filter((n) => fleet.ready(n));
        if (alive.length < 2) {
          await sleep(100); // keep one worker serving while another restarts
          continue;
        }
        // A COPY streaming into PostgreSQL right now, and the worker process that runs it
        // (or nothing left to kill: every session has ended).
        const target = await waitFor(
          'a COPY on a live worker',
          async () => {
            for (const b of await backends(h, { queryLike: 'COPY %', state: 'active' })) {
              const owner = b.client_port ? await ownerOfClientPort(fleet, b.client_port) : undefined;
              if (owner && alive.includes(owner)) return { owner, database: b.datname };
            }
            const { rows } = await h.rt.dbs
              .pool('demo_session')
              .query(`SELECT 1 FROM demo_sessions WHERE status IN ('pending', 'loading') LIMIT 1`);
            return rows.length === 0 ? null : undefined;
          },
          30_000,
          10,
        );
        if (target === null) break;
        const before = await activeJobs(h);
        await fleet.kill(target.owner, 'SIGKILL');
        const kill: Kill = { worker: target.owner, database: target.database, at: Date.now(), orphans: [] };
        kills.push(kill);
        pending.push(
          (async () => {
            await fleet.restart(kill.worker); // resolves once its /healthz answers 200
            kill.restartMs = Date.now() - kill.at;
          })(),
        );
        // The stalled checker hands its jobs out again after LOCK_DURATION_MS; they are followed in the background.
        pending.push(
          (async () => {
            const orphans = await orphanedJobs(h, before);
            kill.orphans = orphans.map((j) => j.id.slice(0, 36));
            if (orphans.lastSeenAt) kill.handedOutMs = orphans.lastSeenAt - kill.at;
            kill.recoveredMs = await jobsDone(h, orphans, kill.at, BOUND_MS);
          })(),
        );
        await sleep(KILL_EVERY_MS);
      }
      // Settle everything first (no floating rejection), then fail on the first problem.
      for (const r of await Promise.allSettled(pending)) if (r.status === 'rejected') throw r.reason;

      const ended = await waitForAll(h, ids, BOUND_MS);
      const lastKill = kills.at(-1)?.at ?? Date.now();
      const allEnded = Math.max(...[...ended.values()].map((e) => e.endedAt));
      for (const e of ended.values()) expect(e.endedAt - Date.parse(e.view.created_at)).toBeLessThan(BOUND_MS);

      const tally = await checkSessions(h, ids, sc.facts);
      console.log(
        `scenario 1: ${ids.length} sessions -> ${JSON.stringify(tally)}; kills: ${kills.map((k) => `${k.worker}@${k.database.replace(h.cfg.DB_NAME_PREFIX, '')}`).join(' ')}`,
      );
      // Retrying after a kill must have produced exact counts at least once (else nothing above was exercised).
      const hit = new Set(kills.flatMap((k) => k.orphans));
      const readyAfterKill = [...hit].filter((id) => ended.get(id)?.view.status === 'ready');
      expect(hit.size, 'sessions whose jobs a kill orphaned').toBeGreaterThan(0);
      expect(readyAfterKill.length, 'sessions hit by a kill that still ended ready').toBeGreaterThan(0);
      const handed = stats(kills.flatMap((k) => (k.handedOutMs === undefined ? [] : [k.handedOutMs])));
      recordRecovery('sigkill-during-copy: kill -> its jobs handed out again', handed.max, handed);
      const rec = stats(kills.map((k) => k.recoveredMs ?? 0));
      recordRecovery('sigkill-during-copy: kill -> its jobs done again', rec.max, {
        ...rec,
        orphaned_jobs: kills.map((k) => k.orphans.length),
      });
      recordRecovery(
        'sigkill-during-copy: kill -> worker restarted, /healthz 200',
        stats(kills.map((k) => k.restartMs ?? 0)).max,
      );
      recordRecovery('sigkill-during-copy: last kill -> every session ended', allEnded - lastKill, {
        sessions: ids.length,
        hit_by_a_kill: hit.size,
        ...tally,
      });
      // Every worker is back and healthy.
      for (const n of ['w1', 'w2', 'w3'])
        expect((await httpJson('GET', `http://127.0.0.1:${fleet.get(n).port}/healthz`)).status).toBe(200);
      expect(kills.length, `kills before every session ended (wanted ${KILLS})`).toBeGreaterThanOrEqual(MIN_KILLS);
    },
    TEST_TIMEOUT_MS,
  );
});
