import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionKeys } from '../../src/redis/keys.ts';
import { leftoverCount } from '../support/data-rules.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { createAndWait, recordSession, SEED_DATA, waitForEnd } from '../support/sessions.ts';
import { randomUUID } from 'node:crypto';
import { createFlowProducer } from '../../src/flows/queues.ts';
import { enqueueSession } from '../../src/sessions/create-session.ts';
import { loadProfile } from '../../src/seed/profile.ts';
import { sessionTenantIds } from '../../src/load/session-context.ts';

/** A session whose service fails for good ends `failed`, with nothing of it left anywhere. */
describe('a failing service fails the session and removes everything', () => {
  let h: Harness;
  let dataDir: string;

  beforeAll(async () => {
    h = await createHarness({ JOB_ATTEMPTS: '3' });
    await h.startWorkers();
    dataDir = await mkdtemp(path.join(tmpdir(), 'demo-seed-failure-'));
  });
  afterAll(async () => {
    await h?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('retries a service that keeps failing, then fails the session with its error and removes the rows of the others', async () => {
    // forecasting loads last: by then every other service has committed its rows.
    await h.rt.dbs.pool('forecasting').query(`
      CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'forecast store is read-only'; END $$;
      CREATE TRIGGER refuse_forecasts BEFORE INSERT ON forecasts FOR EACH ROW EXECUTE FUNCTION refuse();
      -- ALWAYS: the loads run as replica (LOAD_FK_CHECKS=skip), where ordinary triggers do not fire.
      ALTER TABLE forecasts ENABLE ALWAYS TRIGGER refuse_forecasts;`);
    try {
      const v = await createAndWait(h, 'professional');
      expect(v.status).toBe('failed');
      expect(v.error).toMatch(/^forecasting: .*forecast store is read-only/);
      expect(v.services.forecasting.status).toBe('failed');
      expect(v.services.sales.status).toBe('removed'); // it had loaded, and was removed
      const job = await new Queue('forecasting', { connection: h.rt.redis, prefix: h.cfg.QUEUE_PREFIX }).getJob(
        `${v.session_id}-forecasting`,
      );
      expect(job?.attemptsMade).toBe(3);
      expect(await leftoverCount(h.rt.dbs, v.tenant_ids)).toBe(0);
      expect(await h.rt.redis.exists(...sessionKeys(h.cfg.QUEUE_PREFIX, v.session_id))).toBe(0);
    } finally {
      await h.rt.dbs.pool('forecasting').query('DROP TRIGGER refuse_forecasts ON forecasts; DROP FUNCTION refuse()');
    }
  });

  it('fails at once on bad seed data, naming the file, record and field, with nothing left', async () => {
    await cp(path.join(SEED_DATA, 'professional'), path.join(dataDir, 'professional'), { recursive: true });
    const file = path.join(dataDir, 'professional', '04-recipes.json');
    const doc = JSON.parse(await readFile(file, 'utf8'));
    const line = doc.tables['recipes.recipe_ingredients'][0];
    line.ingredient_id = '00000000-0000-4000-8000-000000000000';
    await writeFile(file, JSON.stringify(doc));

    // create() refuses such a profile (validate-cli.test.ts); the worker must refuse it too
    // when it gets one anyway (a profile changed on disk after its session was created).
    const sessionId = randomUUID();
    const tenantIds = sessionTenantIds(await loadProfile(dataDir, 'professional'), sessionId);
    const record = await recordSession(h, {
      session_id: sessionId,
      tenant_id: tenantIds[0]!,
      tenant_ids: tenantIds,
      data_dir: dataDir,
    });
    await enqueueSession(h.cfg, createFlowProducer(h.cfg, h.rt.redis), record);
    const v = await waitForEnd(h, sessionId, 30_000);
    expect(v.status).toBe('failed');
    expect(v.error).toContain('recipes: 04-recipes.json');
    expect(v.error).toContain(`record ${line.id}`);
    expect(v.error).toContain('field ingredient_id');
    const job = await new Queue('recipes', { connection: h.rt.redis, prefix: h.cfg.QUEUE_PREFIX }).getJob(
      `${v.session_id}-recipes`,
    );
    expect(job?.attemptsMade).toBe(1); // bad data is not retried
    expect(await leftoverCount(h.rt.dbs, v.tenant_ids)).toBe(0);
  });
});
