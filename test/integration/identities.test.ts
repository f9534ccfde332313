import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES } from '../../src/catalog/services.ts';
import { TABLES } from '../../src/catalog/tables.ts';
import { sessionTag } from '../../src/load/identities.ts';
import type { SessionView } from '../../src/sessions/session-view.ts';
import { sessionRows, type RowsByTable } from '../support/data-rules.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { profileRecords, waitForEnd } from '../support/sessions.ts';

/**
 * Identities per session, in PostgreSQL: 5 professional and 3 enterprise sessions load
 * at once under the unique indexes of auth.users(email) and tenant.tenants(slug) (which
 * a shared seed email or slug would break), under a DEMO_EMAIL_DOMAIN of this test's.
 */
const DOMAIN = 'h20.demo.invalid';
const EMAIL_RE = /[^\s"@]+@[^\s"@]+\.[a-z]{2,}/gi;

describe('identities unique per session', () => {
  let h: Harness;
  let sessions: { profile: string; view: SessionView; rows: RowsByTable }[];
  /** Every email in the profiles' seed files. */
  let seedEmails: Set<string>;

  beforeAll(async () => {
    h = await createHarness({ DEMO_EMAIL_DOMAIN: DOMAIN });
    await h.startWorkers();
    const profiles = [...Array(5).fill('professional'), ...Array(3).fill('enterprise')] as string[];
    // All eight created before any is waited for: they load side by side.
    const created = await Promise.all(profiles.map((profile) => h.rt.producer.create({ profile })));
    const views = await Promise.all(created.map((s) => waitForEnd(h, s.session_id, 120_000)));
    sessions = await Promise.all(
      views.map(async (view, i) => ({
        profile: profiles[i] as string,
        view,
        rows: await sessionRows(h.rt.dbs, view.tenant_ids),
      })),
    );
    seedEmails = new Set();
    for (const p of ['professional', 'enterprise'])
      for (const m of JSON.stringify(await profileRecords(p)).matchAll(EMAIL_RE)) seedEmails.add(m[0].toLowerCase());
  }, 180_000);
  afterAll(async () => {
    await h?.close();
  });

  it('has the unique indexes in place', async () => {
    const index = async (service: 'auth' | 'tenant', name: string) =>
      (
        await h.rt.dbs
          .pool(service)
          .query<{ def: string }>('SELECT indexdef AS def FROM pg_indexes WHERE indexname = $1', [name])
      ).rows[0]?.def;
    expect(await index('auth', 'users_email_key')).toMatch(/UNIQUE INDEX .* \(email\)/);
    expect(await index('tenant', 'tenants_slug_key')).toMatch(/UNIQUE INDEX .* \(slug\)/);
  });

  it('loads all eight sessions side by side', () => {
    for (const s of sessions)
      expect(s.view.status, `${s.profile} ${s.view.session_id}: ${s.view.error ?? ''}`).toBe('ready');
    expect(new Set(sessions.map((s) => s.view.session_id)).size).toBe(8);
  });

  it('shares no email and no slug between sessions; every email is the session’s, under DEMO_EMAIL_DOMAIN', () => {
    const owner = new Map<string, string>();
    const claim = (value: string, session: string, what: string) => {
      const other = owner.get(value);
      expect(other === undefined || other === session, `${what} ${value} in ${session} and ${other}`).toBe(true);
      owner.set(value, session);
    };
    for (const { view, rows } of sessions) {
      const tag = sessionTag(view.session_id);
      const users = rows.get('auth.users') ?? [];
      expect(users.length).toBeGreaterThan(0);
      for (const u of users) {
        const email = u.email as string;
        expect(email).toMatch(new RegExp(`^[a-z0-9._+-]+\\.${tag}@${DOMAIN.replace(/\./g, '\\.')}$`));
        claim(email, view.session_id, 'email');
      }
      for (const t of rows.get('tenant.tenants') ?? []) {
        expect(t.slug as string).toMatch(new RegExp(`^[a-z0-9-]+-${tag}$`));
        expect((t.slug as string).length).toBeLessThanOrEqual(63);
        claim(t.slug as string, view.session_id, 'slug');
      }
      for (const r of rows.get('orders.delivery_routes') ?? []) claim(r.route_code as string, view.session_id, 'route');
      // Supplier and customer contacts too: no email of a session reaches a real mailbox.
      for (const key of ['suppliers.suppliers', 'orders.customers'])
        for (const r of rows.get(key) ?? [])
          expect(String(r.contact_email ?? r.email)).toMatch(new RegExp(`\\.${tag}@${DOMAIN.replace(/\./g, '\\.')}$`));
    }
    expect(owner.size).toBeGreaterThan(8 * 4);
  });

  it('leaves no seed email in any loaded row (every text column of every table)', () => {
    expect(seedEmails.size).toBeGreaterThan(20);
    expect([...seedEmails].some((e) => e.startsWith('maria.garcia@'))).toBe(true);
    for (const { view, rows } of sessions) {
      for (const service of SERVICES) {
        for (const table of TABLES[service]) {
          for (const row of rows.get(`${service}.${table.name}`) ?? []) {
            for (const [column, v] of Object.entries(row)) {
              if (v === null || typeof v === 'number' || typeof v === 'boolean' || v instanceof Date) continue;
              const text = (typeof v === 'string' ? v : JSON.stringify(v)).toLowerCase();
              if (!text.includes('@')) continue;
              const found = [...seedEmails].filter((e) => text.includes(e));
              expect(found, `${service}.${table.name}.${column} of ${view.session_id}`).toEqual([]);
            }
          }
        }
      }
    }
  });

  it('keeps the profile’s tier where the request named none (the account type’s)', () => {
    for (const { profile, view, rows } of sessions) {
      const main = (rows.get('tenant.tenants') ?? []).find((t) => t.id === view.tenant_id);
      expect(main?.subscription_tier, view.session_id).toBe(profile);
    }
  });
});
