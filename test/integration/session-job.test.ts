import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES } from '../../src/catalog/services.ts';
import { SESSION_QUEUE, type SessionJobResult } from '../../src/flows/jobs.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { getSession } from '../../src/db/sql/sessions.ts';
import { startWorkers, type RunningWorkers } from '../../src/workers/run-workers.ts';
import { createHarness, eventually, type Harness } from '../support/harness.ts';
import { waitForEnd } from '../support/sessions.ts';

/**
 * The session job marks a session ready without reading its record first: the
 * UPDATE itself only moves a session that is still loading. These check both ends.
 */
describe('the session job, once every service has loaded', () => {
  let h: Harness;
  let services: RunningWorkers | undefined;

  beforeAll(async () => {
    h = await createHarness();
    // Service queues only: each session job waits until the test starts the session queue's worker.
    services = await startWorkers(h.cfg, h.rt.dbs, createLogger('silent', 'stderr'), SERVICES, { sessionQueue: false });
  });
  afterAll(async () => {
    await services?.close();
    await h?.close();
  });

  const sessionJob = (id: string) => h.rt.redis.hgetall(`${h.cfg.QUEUE_PREFIX}:${SESSION_QUEUE}:${id}`);
  const allLoaded = (id: string) =>
    eventually(
      async () => {
        const v = await h.rt.producer.view(id);
        return v && SERVICES.every((s) => v.services[s].status === 'ready') ? v : undefined;
      },
      30_000,
      `the 11 services of ${id} loaded`,
    );

  it('leaves a session destroyed meanwhile as it is, and ends its flow as destroyed', async () => {
    const live = await h.rt.producer.create({ profile: 'professional' });
    const gone = await h.rt.producer.create({ profile: 'professional' });
    await Promise.all([allLoaded(live.session_id), allLoaded(gone.session_id)]);
    expect((await sessionJob(gone.session_id)).finishedOn).toBeUndefined();
    // What a DELETE does to the record first (its cleanup flow is not needed here).
    await h.rt.dbs
      .pool('demo_session')
      .query(`UPDATE demo_sessions SET status = 'destroyed', updated_at = now() WHERE session_id = $1`, [
        gone.session_id,
      ]);

    await h.startWorkers([]);
    expect((await waitForEnd(h, live.session_id)).status).toBe('ready');
    const job = await eventually(
      async () => {
        const j = await sessionJob(gone.session_id);
        return j.finishedOn ? j : undefined;
      },
      30_000,
      'the destroyed session job to finish',
    );
    const result = JSON.parse(job.returnvalue as string) as SessionJobResult;
    expect(result.status).toBe('destroyed');
    expect(Object.keys(result.services ?? {}).sort()).toEqual([...SERVICES].sort());
    const record = await getSession(h.rt.dbs.pool('demo_session'), gone.session_id);
    expect(record?.status).toBe('destroyed');
    expect(record?.ready_at).toBeNull();
    expect(record?.duration_ms).toBeNull();
  });
});
