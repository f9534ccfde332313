import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES } from '../../src/catalog/services.ts';
import { loadConfig } from '../../src/config/env.ts';
import { Databases } from '../../src/db/pools.ts';
import { leftoverCount } from '../support/data-rules.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { createAndWait } from '../support/sessions.ts';

/**
 * LOAD_FK_CHECKS: with `skip` a load transaction runs as replica (no ordinary triggers,
 * so no per-row foreign-key checks) where the role may; with `run` every trigger fires.
 * A plain BEFORE INSERT trigger that refuses shows which: it fires exactly when the
 * foreign-key triggers would.
 */
async function refuseForecasts(h: Harness): Promise<void> {
  await h.rt.dbs.pool('forecasting').query(`
    CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'a trigger fired'; END $$;
    CREATE TRIGGER refuse_forecasts BEFORE INSERT ON forecasts FOR EACH ROW EXECUTE FUNCTION refuse();`);
}

/** References inside one database that name no row: every foreign key of the schema, checked by query. */
async function danglingReferences(h: Harness): Promise<number> {
  let n = 0;
  for (const key of SERVICES) {
    const db = h.rt.dbs.pool(key);
    const { rows: fks } = await db.query<{ child: string; col: string; parent: string; pcol: string }>(`
      SELECT c.conrelid::regclass::text AS child, a.attname AS col, c.confrelid::regclass::text AS parent, pa.attname AS pcol
      FROM pg_constraint c
      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
      JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]
      WHERE c.contype = 'f'`);
    for (const fk of fks) {
      const { rows } = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${fk.child} x WHERE x.${fk.col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${fk.parent} p WHERE p.${fk.pcol} = x.${fk.col})`,
      );
      n += Number(rows[0]?.n);
    }
  }
  return n;
}

describe('LOAD_FK_CHECKS=skip (the default)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ JOB_ATTEMPTS: '1' });
    await h.startWorkers();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('loads without firing ordinary triggers where the role may set session_replication_role, every reference still resolving', async () => {
    const allowed = await h.rt.dbs.loadSkipsFkChecks('forecasting');
    await refuseForecasts(h);
    const v = await createAndWait(h, 'enterprise');
    expect(v.status, v.error ?? '').toBe(allowed ? 'ready' : 'failed');
    if (allowed) expect(await danglingReferences(h)).toBe(0);
    else expect(await leftoverCount(h.rt.dbs, v.tenant_ids)).toBe(0);
  });
});

describe('LOAD_FK_CHECKS=run', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ JOB_ATTEMPTS: '1', LOAD_FK_CHECKS: 'run' });
    await h.startWorkers();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('fires every trigger in a load: the refusing one fails the session, and nothing of it is left', async () => {
    expect(await h.rt.dbs.loadSkipsFkChecks('forecasting')).toBe(false);
    await refuseForecasts(h);
    const v = await createAndWait(h, 'professional');
    expect(v.status).toBe('failed');
    expect(v.error).toMatch(/^forecasting: .*a trigger fired/);
    expect(await leftoverCount(h.rt.dbs, v.tenant_ids)).toBe(0);
  });
});

describe('who may skip the checks', () => {
  const role = `demo_seed_fk_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
  const admin = new pg.Pool({ connectionString: loadConfig().DATABASE_URL, max: 1 });
  let superuser = false;
  beforeAll(async () => {
    superuser =
      (await admin.query<{ s: boolean }>('SELECT rolsuper AS s FROM pg_roles WHERE rolname = current_user')).rows[0]
        ?.s === true;
    if (superuser) await admin.query(`CREATE ROLE ${role} LOGIN`);
  });
  afterAll(async () => {
    if (superuser)
      await admin.query(`REVOKE SET ON PARAMETER session_replication_role FROM ${role}; DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  it('a role without the right runs them; GRANT SET ON PARAMETER session_replication_role lets it skip them', async (ctx) => {
    if (!superuser) ctx.skip(); // creating a role and granting on a parameter need a superuser
    const asRole = () => {
      const url = new URL(loadConfig().DATABASE_URL);
      url.username = role;
      url.password = '';
      // The cluster's postgres database: the check needs no table, only a connection.
      return new Databases(
        loadConfig({ ...process.env, DATABASE_URL: url.toString(), TENANT_DATABASE_URL: url.toString() }),
      );
    };
    const before = asRole();
    try {
      expect(await before.loadSkipsFkChecks('tenant')).toBe(false);
    } finally {
      await before.close();
    }
    await admin.query(`GRANT SET ON PARAMETER session_replication_role TO ${role}`);
    const after = asRole();
    try {
      expect(await after.loadSkipsFkChecks('tenant')).toBe(true);
      const run = new Databases(loadConfig({ ...process.env, LOAD_FK_CHECKS: 'run' }));
      expect(await run.loadSkipsFkChecks('tenant')).toBe(false);
      await run.close();
    } finally {
      await after.close();
    }
  });
});
