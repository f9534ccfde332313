import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.ts';
import { DATABASE_KEYS } from '../../src/catalog/services.ts';
import type { SessionView } from '../../src/sessions/session-view.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { client, expectErrorShape, PATH, postSession, startTestApi, waitForStatus } from './helpers.ts';

/**
 * The request applies: POST's subscription_tier lands on the session's main tenant row
 * (the account type's when none is named), and the prospect's email stays on the session
 * record: in no service database, not in GET, not in /metrics.
 */
describe('HTTP API: the request applies to the loaded session', () => {
  let h: Harness;
  let api: RunningApi;
  const prospect = (n: string) => `Prospect.${n}.${process.pid}@Prospect-H20.example`;
  const cases = [
    {
      name: 'professional, starter',
      body: { demo_account_type: 'professional', subscription_tier: 'starter' },
      tier: 'starter',
    },
    { name: 'professional, no tier', body: { demo_account_type: 'professional' }, tier: 'professional' },
    {
      name: 'enterprise, null tier',
      body: { demo_account_type: 'enterprise', subscription_tier: null },
      tier: 'enterprise',
    },
    {
      name: 'enterprise, professional',
      body: { demo_account_type: 'enterprise', subscription_tier: 'professional' },
      tier: 'professional',
    },
  ];
  const ready = new Map<string, SessionView>();

  beforeAll(async () => {
    h = await createHarness();
    await h.startWorkers();
    api = await startTestApi(h, { RATE_LIMIT_PER_MINUTE: 0 });
    const posted = await Promise.all(cases.map((c, i) => postSession(api, { ...c.body, email: prospect(String(i)) })));
    for (const res of posted) expect(res.status, res.text).toBe(202);
    await Promise.all(
      posted.map(async (res, i) =>
        ready.set(cases[i]!.name, await waitForStatus(api, res.body.session_id as string, ['ready'], 90_000)),
      ),
    );
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await h?.close();
  });

  it.each(cases)("$name: the main tenant's row has the tier $tier, the outlets keep theirs", async (c) => {
    const v = ready.get(c.name)!;
    const { rows } = await h.rt.dbs
      .pool('tenant')
      .query<{ id: string; subscription_tier: string }>(
        'SELECT id, subscription_tier FROM tenants WHERE id = ANY($1::uuid[])',
        [v.tenant_ids],
      );
    expect(rows).toHaveLength(v.tenant_ids.length);
    for (const r of rows) expect(r.subscription_tier, r.id).toBe(r.id === v.tenant_id ? c.tier : 'enterprise');
    expect(v.subscription_tier).toBe(c.tier);
  });

  it('a bad tier is a 400 naming the field, and makes no session', async () => {
    const res = await postSession(api, {
      demo_account_type: 'professional',
      email: prospect('bad'),
      subscription_tier: 'platinum',
    });
    expectErrorShape(res, 400, 'validation_error');
    expect(res.body.error.details).toEqual([
      { path: 'subscription_tier', message: 'must be one of: starter, professional, enterprise' },
    ]);
    const { rows } = await h.rt.dbs
      .pool('demo_session')
      .query('SELECT 1 FROM demo_sessions WHERE lower(email) = lower($1)', [prospect('bad')]);
    expect(rows).toEqual([]);
  });

  it("keeps the prospect's email on the session record only: in no service database, GET or /metrics", async () => {
    const needle = '%prospect-h20.example%';
    // The search works: the session records hold each email.
    const records = await h.rt.dbs
      .pool('demo_session')
      .query<{ n: number }>('SELECT count(*)::int AS n FROM demo_sessions d WHERE d::text ILIKE $1', [needle]);
    expect(records.rows[0]?.n).toBe(cases.length);
    for (const key of DATABASE_KEYS) {
      if (key === 'demo_session') continue;
      const db = h.rt.dbs.pool(key);
      const tables = await db.query<{ schema: string; name: string }>(
        `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
          WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'`,
      );
      expect(tables.rows.length, key).toBeGreaterThan(0);
      for (const t of tables.rows) {
        // The whole row as text: every column, whatever its type.
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${t.schema}"."${t.name}" x WHERE x::text ILIKE $1`,
          [needle],
        );
        expect(rows[0]?.n, `${key}: ${t.schema}.${t.name}`).toBe(0);
      }
    }
    for (const v of ready.values()) {
      const res = await client(api).get(`${PATH}/${v.session_id}`);
      expect(res.status).toBe(200);
      expect(res.text.toLowerCase()).not.toContain('prospect-h20.example');
    }
    const metrics = await client(api).get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text.toLowerCase()).not.toContain('prospect');
  });
});
