import { expect, it } from 'vitest';
import { SERVICES } from '../../src/catalog/services.ts';
import {
  allSessionIds,
  checkSessions,
  scenarioWorld,
  describeFaults,
  postSession,
  QUICK,
  recordRecovery,
  TEST_TIMEOUT_MS,
  waitForAll,
} from './support.ts';

/**
 * Baseline for the other scenarios: the same fleet and load (30 sessions, 3 worker
 * processes), no fault. With the suite's LOCK_DURATION_MS no job may stall: a stall
 * without a fault means a worker's event loop was blocked longer than the lock lasts,
 * so healthy jobs get run twice (and, past maxStalledCount, fail). The suite runs
 * with LOCK_DURATION_MS=2000, which holds because big tables are encoded in slices
 * (load/segments.ts); FAULTS_LOCK_DURATION_MS sets another value.
 */
const SESSIONS = 30;
const SCALE = 80;

describeFaults("baseline: the scenarios' load without a fault", () => {
  const sc = scenarioWorld({ tag: 'baseline', seed: 8, scale: SCALE, workers: 3 });

  it.skipIf(QUICK)(
    `${SESSIONS} sessions on 3 workers: all ready with exact counts, and no job stalls (LOCK_DURATION_MS outlasts every event-loop block)`,
    async () => {
      const { h, fleet } = sc.w;
      const t0 = Date.now();
      await postSession(fleet.url());
      await Promise.all(Array.from({ length: SESSIONS - 1 }, () => postSession(fleet.url())));
      const ids = await allSessionIds(h);
      const ended = await waitForAll(h, ids, 120_000);
      const tally = await checkSessions(h, ids, sc.facts);
      // Every job's stall count (BullMQ `stc`), over every queue of every session.
      const pipe = h.rt.redis.pipeline();
      const keys = ids.flatMap((id) => [
        `${h.cfg.QUEUE_PREFIX}:demo-session:${id}`,
        ...SERVICES.map((s) => `${h.cfg.QUEUE_PREFIX}:${s}:${id}-${s}`),
      ]);
      for (const k of keys) pipe.hget(k, 'stc');
      const stalled = ((await pipe.exec()) ?? []).filter(([, v]) => Number(v ?? 0) > 0).length;
      const lockErrors = fleet.logLines((l) =>
        /could not renew lock|Missing lock|Lock mismatch/.test(String(l.err ?? '')),
      ).length;
      console.log(
        `baseline: LOCK_DURATION_MS=${h.cfg.LOCK_DURATION_MS}: ${JSON.stringify(tally)}, ${stalled} of ${keys.length} jobs stalled, ${lockErrors} lock errors logged`,
      );
      recordRecovery(
        'baseline (no fault): first POST -> every session ended',
        Math.max(...[...ended.values()].map((e) => e.endedAt)) - t0,
        { sessions: ids.length, lock_ms: h.cfg.LOCK_DURATION_MS, stalled_jobs: stalled, ...tally },
      );
      expect(tally.ready, 'without a fault every session is ready').toBe(ids.length);
      expect(stalled, 'jobs that stalled without a fault').toBe(0);
      expect(fleet.crashReport()).toBe('');
    },
    TEST_TIMEOUT_MS,
  );
});
