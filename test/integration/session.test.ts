import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES, SERVICE_SPECS } from '../../src/catalog/services.ts';
import type { ServiceJobResult } from '../../src/flows/jobs.ts';
import { sessionKeys } from '../../src/redis/keys.ts';
import { formatDay, parseDay, utcDay } from '../../src/seed/dates.ts';
import type { SessionView } from '../../src/sessions/session-view.ts';
import { destroySession } from '../../src/sessions/destroy-session.ts';
import {
  allUuidsIn,
  countsOf,
  leftoverCount,
  sessionRows,
  uuidColumns,
  type RowsByTable,
} from '../support/data-rules.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { createAndWait, profileRecords, readManifest } from '../support/sessions.ts';

/** The contract's data rules for a session of each profile, checked in PostgreSQL. */
describe.each(['professional', 'enterprise'])('a %s demo session', (profile) => {
  let h: Harness;
  let first: SessionView;
  let second: SessionView;
  let rows: RowsByTable;

  beforeAll(async () => {
    h = await createHarness();
    await h.startWorkers();
    [first, second] = await Promise.all([createAndWait(h, profile), createAndWait(h, profile)]);
    rows = await sessionRows(h.rt.dbs, first.tenant_ids);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('ends ready with rows and duration_ms for each of the 11 services', () => {
    expect(first.status, first.error ?? '').toBe('ready');
    expect(first.duration_ms).toBeGreaterThan(0);
    for (const s of SERVICES) {
      expect(first.services[s].status).toBe('ready');
      expect(first.services[s].duration_ms).not.toBeNull();
    }
    expect(Object.keys(first.phases).sort()).toEqual(['1', '2', '3', '4']);
  });

  it('starts each service only once every service it depends on has published its ID maps, each service once', async () => {
    for (const v of [first, second]) {
      const {
        rows: [rec],
      } = await h.rt.dbs
        .pool('demo_session')
        .query<{ services: Record<string, ServiceJobResult> }>(
          'SELECT services FROM demo_sessions WHERE session_id = $1',
          [v.session_id],
        );
      const jobs = rec?.services ?? {};
      expect(Object.keys(jobs).sort()).toEqual([...SERVICES].sort());
      for (const s of SERVICES) {
        const job = jobs[s] as ServiceJobResult;
        expect(job.attempts, `${s} ran once`).toBe(1);
        // A dependency's maps go out while it commits (published_at ≤ finished_at), and a
        // dependent may start from then: it needs the maps, not the other database's rows.
        expect(job.published_at, `${s} published before it finished`).toBeLessThanOrEqual(job.finished_at);
        for (const dep of SERVICE_SPECS[s].dependsOn) {
          expect(job.queued_at, `${s} queued after ${dep} published`).toBeGreaterThanOrEqual(
            (jobs[dep] as ServiceJobResult).published_at,
          );
        }
      }
    }
  });

  it('loads exactly the rows the manifest lists, per service and table', async () => {
    const manifest = await readManifest(profile);
    expect(countsOf(rows)).toEqual(manifest.counts);
    for (const s of SERVICES) {
      const expected = Object.values(manifest.counts[s] ?? {}).reduce((a, b) => a + b, 0);
      expect(first.services[s].rows, s).toBe(expected);
    }
  });

  it('carries one of the session tenant ids on every row', () => {
    for (const [table, list] of rows) for (const r of list) expect(first.tenant_ids, table).toContain(r.tenant_id);
  });

  it('creates the tenants of the manifest, the main one first, children linked to their parent', async () => {
    const manifest = await readManifest(profile);
    expect(first.tenant_ids).toHaveLength(manifest.tenants.length);
    expect(first.tenant_id).toBe(first.tenant_ids[0]);
    const tenants = rows.get('tenant.tenants') ?? [];
    expect(tenants.map((t) => t.id).sort()).toEqual([...first.tenant_ids].sort());
    for (const t of tenants) {
      expect(t.parent_tenant_id).toBe(t.id === first.tenant_id ? null : first.tenant_id);
    }
  });

  it('uses no id from the seed files', async () => {
    const seedIds = allUuidsIn(await profileRecords(profile));
    expect(seedIds.size).toBeGreaterThan(100);
    const loaded = allUuidsIn([...rows.values()]);
    expect([...loaded].filter((id) => seedIds.has(id))).toEqual([]);
  });

  it('points every uuid at a row of the same session, or at the session itself', async () => {
    const cols = await uuidColumns(h.rt.dbs);
    const own = new Set<string>([first.session_id, ...first.tenant_ids]);
    for (const list of rows.values()) for (const r of list) own.add(r.id as string);
    let checked = 0;
    for (const [table, list] of rows) {
      for (const r of list) {
        for (const c of cols.get(table) ?? []) {
          if (r[c] === null) continue;
          expect(own.has(r[c] as string), `${table}.${c} = ${String(r[c])}`).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('moves history to end on the creation day (UTC) and reach back 90 days; future rows lie after it', () => {
    const today = utcDay(new Date(first.created_at));
    const sales = (rows.get('sales.sales_daily') ?? []).map((r) => r.sale_date as string).sort();
    expect(sales.at(-1)).toBe(today);
    expect(sales[0]).toBe(formatDay(parseDay(today) - 89));
    const batches = rows.get('production.production_batches') ?? [];
    const done = batches
      .filter((b) => b.status === 'completed')
      .map((b) => utcDay(b.planned_start as Date))
      .sort();
    expect(done.at(-1)! <= today).toBe(true);
    const forecasts = (rows.get('forecasting.forecasts') ?? []).map((r) => r.forecast_date as string);
    expect(forecasts.length).toBeGreaterThan(0);
    for (const f of forecasts) expect(f > today).toBe(true);
  });

  it('shares no id with another session', async () => {
    expect(second.status).toBe('ready');
    const a = allUuidsIn([...rows.values()]);
    const b = allUuidsIn([...(await sessionRows(h.rt.dbs, second.tenant_ids)).values()]);
    expect(b.size).toBe(a.size);
    expect([...a].filter((id) => b.has(id))).toEqual([]);
  });

  it('leaves nothing in any database or in Redis after destroy, and other sessions untouched', async () => {
    expect(await h.rt.redis.exists(...sessionKeys(h.cfg.QUEUE_PREFIX, first.session_id))).toBeGreaterThan(0);
    await destroySession(h.rt.worker, first.session_id);
    expect(await leftoverCount(h.rt.dbs, first.tenant_ids)).toBe(0);
    expect(await h.rt.redis.exists(...sessionKeys(h.cfg.QUEUE_PREFIX, first.session_id))).toBe(0);
    const [, keys] = await h.rt.redis.scan('0', 'MATCH', `*session:${first.session_id}*`, 'COUNT', 10000);
    expect(keys).toEqual([]);
    expect((await h.rt.producer.view(first.session_id))?.status).toBe('destroyed');
    const manifest = await readManifest(profile);
    expect(countsOf(await sessionRows(h.rt.dbs, second.tenant_ids))).toEqual(manifest.counts);
  });
});
