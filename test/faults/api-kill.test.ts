import { expect, it } from 'vitest';
import {
  allSessionIds,
  checkSessions,
  scenarioWorld,
  describeFaults,
  TEST_TIMEOUT_MS,
  getSession,
  httpJson,
  pick,
  postSession,
  QUICK,
  recordRecovery,
  waitFor,
  waitForAll,
} from './support.ts';

/**
 * Scenario 5: the API process SIGKILLed.
 * - while the sessions it created load: they keep loading on the workers; the restarted
 *   API still knows them and tells their true status; they end ready and then expire
 *   (short TTL) with nothing left;
 * - in the middle of a POST, after the session is recorded and before its flow is
 *   enqueued (Redis is frozen with SIGSTOP to hold the request there): the session is
 *   still tracked, the reconciler enqueues it, it ends ready, and expires.
 */
const TTL_S = pick(25, 15);
const SCALE = pick(120, 40);
const BOUND_MS = 120_000;

describeFaults('scenario 5: the API killed while sessions load', () => {
  const sc = scenarioWorld({
    tag: 'api',
    seed: 9,
    scale: SCALE,
    workers: 2,
    overrides: { DEMO_SESSION_TTL_SECONDS: String(TTL_S) },
  });

  /** Waits for every session to expire (its TTL is short) and checks nothing of it is left. */
  async function expectExpired(ids: string[]): Promise<number> {
    const { rows } = await sc.w.h.rt.dbs
      .pool('demo_session')
      .query<{ expires_at: Date }>(
        'SELECT max(expires_at) AS expires_at FROM demo_sessions WHERE session_id = ANY($1)',
        [ids],
      );
    const due = rows[0]?.expires_at.getTime() ?? Date.now();
    const gone = await waitForAll(sc.w.h, ids, due - Date.now() + 30_000, ['expired']);
    await checkSessions(sc.w.h, ids, sc.facts, { accept: ['expired'] });
    for (const id of ids) expect((await getSession(sc.w.fleet.url(), id)).status).toBe('expired');
    return Math.max(...[...gone.values()].map((e) => e.endedAt)) - due;
  }

  it(
    'SIGKILL while its sessions load: restarted, it tracks them; they end ready with exact counts, then expire',
    async () => {
      const { h, fleet } = sc.w;
      const crashMark = fleet.crashes.length;
      const api = fleet.url();
      await postSession(api);
      await Promise.all(Array.from({ length: pick(7, 2) }, () => postSession(api)));
      const ids = await allSessionIds(h);
      await fleet.kill('api', 'SIGKILL');
      const killedAt = Date.now();
      const loadingAtKill = (await Promise.all(ids.map((id) => h.rt.producer.view(id)))).filter(
        (v) => v?.status === 'pending' || v?.status === 'loading',
      ).length;
      expect(loadingAtKill, 'sessions still loading when the API died').toBeGreaterThan(0);

      const back = await fleet.restart('api');
      recordRecovery('api-sigkill: restart -> API listening', back.readyMs);
      // It answers for every session at once, with the status the record has.
      for (const id of ids) expect(['pending', 'loading', 'ready']).toContain((await getSession(api, id)).status);
      const ended = await waitForAll(h, ids, BOUND_MS);
      await checkSessions(h, ids, sc.facts, { accept: ['ready'] });
      for (const id of ids) expect((await getSession(api, id)).status).toBe(ended.get(id)?.view.status);
      recordRecovery(
        'api-sigkill: kill -> every session ended',
        Math.max(...[...ended.values()].map((e) => e.endedAt)) - killedAt,
        { sessions: ids.length, loading_at_kill: loadingAtKill },
      );
      recordRecovery('api-sigkill: expiry lag (expires_at -> expired, nothing left)', await expectExpired(ids), {
        ttl_s: TTL_S,
      });
      expect(fleet.crashReport(crashMark)).toBe('');
    },
    TEST_TIMEOUT_MS,
  );

  it.skipIf(QUICK)(
    'SIGKILL in the middle of a POST, after the session is recorded and before its flow is enqueued',
    async () => {
      const { h, fleet, redis } = sc.w;
      const crashMark = fleet.crashes.length;
      const api = fleet.url();
      const before = new Set(await allSessionIds(h));
      redis.pause();
      let answer: { status: number; body: unknown } | string;
      try {
        const post = httpJson('POST', `${api}/api/v1/demo-sessions`, {
          demo_account_type: 'professional',
          email: 'midpost@example.com',
        }).catch((e: unknown) => `no answer: ${(e as Error).message}`);
        // The session is recorded (PostgreSQL) while its enqueue waits on the frozen Redis.
        const id = await waitFor(
          'the session row',
          async () => (await allSessionIds(h)).find((x) => !before.has(x)),
          10_000,
          10,
        );
        await fleet.kill('api', 'SIGKILL');
        answer = await post;
        redis.resume();
        const killedAt = Date.now();
        console.log(
          `scenario 5: the client of the interrupted POST got ${JSON.stringify(answer)}; session ${id} is recorded`,
        );
        await fleet.restart('api');
        // The session is tracked: the API answers for it, and the reconciler enqueues its lost flow.
        expect(['pending', 'loading', 'ready']).toContain((await getSession(api, id)).status);
        const [ended] = (await waitForAll(h, [id], BOUND_MS)).values();
        await checkSessions(h, [id], sc.facts, { accept: ['ready'] });
        const rebuilt = (await fleet.settledLogLines()).filter(
          (l) => l.msg === 'reconciler repaired sessions' && ((l.rebuilt as string[] | undefined) ?? []).includes(id),
        );
        expect(rebuilt.length, 'the reconciler enqueued the flow the POST never did').toBeGreaterThan(0);
        recordRecovery(
          'api-sigkill-mid-post: kill -> the orphaned session ready',
          (ended?.endedAt ?? killedAt) - killedAt,
        );
        recordRecovery(
          'api-sigkill-mid-post: expiry lag (expires_at -> expired, nothing left)',
          await expectExpired([id]),
          { ttl_s: TTL_S },
        );
      } finally {
        redis.resume();
      }
      expect(fleet.crashReport(crashMark)).toBe('');
    },
    TEST_TIMEOUT_MS,
  );
});
