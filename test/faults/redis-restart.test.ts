import { expect, it } from 'vitest';
import { SESSION_QUEUE } from '../../src/flows/jobs.ts';
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
  serviceReady,
  sleep,
  waitFor,
  waitForAll,
  type World,
} from './support.ts';

/**
 * Scenario 2: the Redis server restarted while sessions load (a private redis-server;
 * the shared one on 6379 is never touched).
 * - Without persistence (`--save "" --appendonly no`, SHUTDOWN NOSAVE): queues, ID maps
 *   and progress are gone. The reconciler rebuilds each unfinished session from its
 *   record (services already committed are found by their markers and skipped) or
 *   fails and cleans it; ready sessions get their lost expiry back; the API answers
 *   from PostgreSQL all along and tells the truth.
 * - With AOF (`--appendonly yes`, kill -9): the queues come back and the loads resume.
 */
const SESSIONS = pick(10, 4);

async function recordStatus(w: World, id: string): Promise<string | undefined> {
  const { rows } = await w.h.rt.dbs
    .pool('demo_session')
    .query<{ status: string }>('SELECT status FROM demo_sessions WHERE session_id = $1', [id]);
  return rows[0]?.status;
}
const SCALE = pick(120, 40);
const DOWN_MS = 2000;
const BOUND_MS = 120_000;

for (const mode of QUICK ? (['no persistence'] as const) : (['no persistence', 'AOF'] as const)) {
  describeFaults(`scenario 2: Redis restarted during loads (${mode})`, () => {
    const aof = mode === 'AOF';
    const sc = scenarioWorld({ tag: 'redis', seed: 5, scale: SCALE, workers: 3, world: { aof } });

    it(
      `every session ends ready with exact counts or failed with nothing left; the API tells the truth; ${aof ? 'loads resume' : 'flows are rebuilt'}`,
      async () => {
        const { h, fleet, redis } = sc.w;
        const api = fleet.url();
        redis.plantSentinel();
        await postSession(api);
        await Promise.all(Array.from({ length: SESSIONS - 1 }, () => postSession(api)));
        const ids = await allSessionIds(h);

        // Mid-load: some services of some sessions committed, others not started.
        await waitFor(
          'a first service loaded',
          async () =>
            (await Promise.all(ids.map((id) => serviceReady(h, id, 'inventory')))).some(Boolean) ? true : undefined,
          60_000,
          50,
        );
        const atFault = new Map(
          await Promise.all(ids.map(async (id) => [id, (await h.rt.producer.view(id))?.status] as const)),
        );
        if (aof) await redis.kill9();
        else await redis.shutdownNosave();
        const downAt = Date.now();

        // Redis down: GET still answers from PostgreSQL (no 5xx, the record's status; without
        // Redis it cannot see live progress, so a `pending` record may not show as `loading`); POST is refused with 503.
        // A session job that ran just before the fault may still move its record (pending →
        // loading) meanwhile: the answer must be what the record was before or after the GET.
        for (const id of ids) {
          const before = await recordStatus(sc.w, id);
          const v = await getSession(api, id);
          const after = await recordStatus(sc.w, id);
          const allowed = [...new Set([before, after, ...([before, after].includes('pending') ? ['loading'] : [])])];
          expect(allowed, `GET ${id} while Redis is down`).toContain(v.status);
        }
        const refused = await httpJson('POST', `${api}/api/v1/demo-sessions`, {
          demo_account_type: 'professional',
          email: 'down@example.com',
        });
        expect(refused.status).toBe(503);
        await sleep(Math.max(0, DOWN_MS - (Date.now() - downAt)));
        await redis.start();
        const upAt = Date.now();
        const kept = redis.sentinelAtStart;
        const apiReady = await waitFor(
          'the API ready again',
          async () => ((await httpJson('GET', `${api}/readyz`)).status === 200 ? Date.now() : undefined),
          30_000,
          50,
        );
        const workersReady = await waitFor(
          'the workers ready again',
          async () => {
            for (const n of ['w1', 'w2', 'w3'])
              if ((await httpJson('GET', `http://127.0.0.1:${fleet.get(n).port}/readyz`)).status !== 200)
                return undefined;
            return Date.now();
          },
          30_000,
          50,
        );
        expect(kept, aof ? 'AOF brought the keys back' : 'nothing survives without persistence').toBe(aof);

        const ended = await waitForAll(h, ids, BOUND_MS);
        const allEnded = Math.max(...[...ended.values()].map((e) => e.endedAt));
        const tally = await checkSessions(h, ids, sc.facts);
        console.log(
          `scenario 2 (${mode}): ${ids.length} sessions, at the fault ${JSON.stringify(Object.fromEntries([...atFault].map(([id, s]) => [id.slice(0, 8), s])))} -> ${JSON.stringify(tally)}`,
        );

        // The API tells the truth: the same status as the record; a ready session shows every service's rows.
        for (const id of ids) {
          const v = await getSession(api, id);
          expect(v.status).toBe(ended.get(id)?.view.status);
          if (v.status === 'ready')
            for (const [s, n] of Object.entries(sc.facts.serviceRows))
              expect(v.services[s as keyof typeof v.services].rows).toBe(n);
        }
        // Every live session has its expiry job back (it was lost with Redis, or kept by the AOF).
        await waitFor(
          'the expiry of every live session',
          async () => {
            for (const id of ids) {
              if (ended.get(id)?.view.status !== 'ready' && ended.get(id)?.view.status !== 'failed') continue;
              if ((await h.rt.redis.exists(`${h.cfg.QUEUE_PREFIX}:${SESSION_QUEUE}:${id}-expire`)) === 0)
                return undefined;
            }
            return true;
          },
          15_000,
          200,
        );
        if (aof) expect(tally.ready, 'with AOF every load resumes').toBe(ids.length);
        // What the engine did: flows rebuilt by the reconciler, and services found already committed (their markers) and skipped.
        const rebuilt = new Set(
          (await fleet.settledLogLines((l) => l.msg === 'reconciler repaired sessions')).flatMap(
            (l) => (l.rebuilt as string[] | undefined) ?? [],
          ),
        );
        const skipped = fleet.logLines((l) => l.already_loaded === true && ids.includes(l.session_id as string)).length;
        console.log(
          `scenario 2 (${mode}): ${rebuilt.size} flows rebuilt by the reconciler, ${skipped} service loads found already committed`,
        );
        if (!aof) expect([...rebuilt].filter((id) => ids.includes(id)).length, 'lost flows rebuilt').toBeGreaterThan(0);

        // The whole service works again: a new session through the API ends ready.
        const fresh = await postSession(api);
        const [after] = (await waitForAll(h, [fresh], 60_000)).values();
        expect(after?.view.status, after?.view.error ?? '').toBe('ready');
        await checkSessions(h, [fresh], sc.facts, { accept: ['ready'] });

        const tag = aof ? 'redis-kill9-aof' : 'redis-restart-no-persistence';
        recordRecovery(`${tag}: Redis back -> API /readyz 200`, apiReady - upAt);
        recordRecovery(`${tag}: Redis back -> every worker /readyz 200`, workersReady - upAt);
        recordRecovery(`${tag}: Redis back -> every session ended`, allEnded - upAt, {
          sessions: ids.length,
          down_ms: upAt - downAt,
          ...tally,
        });
      },
      TEST_TIMEOUT_MS,
    );
  });
}
