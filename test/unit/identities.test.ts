import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumedEntities, type EntityName } from '../../src/catalog/tables.ts';
import { WAVES } from '../../src/catalog/services.ts';
import {
  EMAIL_LOCAL_MAX,
  EMAIL_MAX,
  identityRewriter,
  isEmailAddress,
  sessionCode,
  sessionEmail,
  sessionSlug,
  sessionTag,
} from '../../src/load/identities.ts';
import { transformContext } from '../../src/load/session-context.ts';
import { compileTable } from '../../src/load/transform.ts';
import { idMapperFor } from '../../src/seed/ids.ts';
import { loadProfile, serviceTables } from '../../src/seed/profile.ts';
import { validateProfile } from '../../src/seed-tools/validate/index.ts';
import { SEED_DATA } from '../support/sessions.ts';

/** The per-session identities (src/load/identities.ts), their load, and what the validator says of them. */
const session = fc.uuid({ version: 4 });
const domain = fc.constantFrom('demo.invalid', 'h20.demo.invalid', 'a-b.example.com');
/** Seed emails as they may come: accents, spaces, odd characters, long local parts, no `@` at all. */
const seedEmail = fc.oneof(
  fc.emailAddress(),
  fc.tuple(fc.string({ maxLength: 90 }), fc.domain()).map(([l, d]) => `${l}@${d}`),
  fc.constantFrom('maria.garcia@panaderiasanmiguel.es', 'Núria.Vilà@forndelbarri.cat', '..@x.es', '@', 'no-at-all'),
);

describe('sessionEmail', () => {
  it('is a valid address under the domain, within 64 / 254 characters, tagged with the session', () => {
    fc.assert(
      fc.property(seedEmail, session, domain, (seed, s, d) => {
        const email = sessionEmail(seed, s, d);
        expect(isEmailAddress(email), email).toBe(true);
        expect(email.endsWith(`.${sessionTag(s)}@${d}`), email).toBe(true);
        expect(email.lastIndexOf('@')).toBeLessThanOrEqual(EMAIL_LOCAL_MAX);
        expect(email.length).toBeLessThanOrEqual(EMAIL_MAX);
        expect(email).toMatch(/^[a-z0-9._+-]+@[a-z0-9.-]+$/);
      }),
    );
  });

  it('is deterministic (every retry computes the same) and differs between sessions', () => {
    fc.assert(
      fc.property(seedEmail, session, session, domain, (seed, a, b, d) => {
        expect(sessionEmail(seed, a, d)).toBe(sessionEmail(seed, a, d));
        expect(sessionEmail(seed, a.toUpperCase(), d)).toBe(sessionEmail(seed, a, d));
        if (a !== b) expect(sessionEmail(seed, a, d)).not.toBe(sessionEmail(seed, b, d));
      }),
    );
  });

  it('keeps the seed local part, made plain ASCII', () => {
    const s = randomUUID();
    const tag = sessionTag(s);
    expect(sessionEmail('maria.garcia@panaderiasanmiguel.es', s, 'demo.invalid')).toBe(
      `maria.garcia.${tag}@demo.invalid`,
    );
    expect(sessionEmail('Núria Vilà@forndelbarri.cat', s, 'Demo.Invalid')).toBe(`nuria-vila.${tag}@demo.invalid`);
    expect(sessionEmail('x'.repeat(200) + '@x.es', s, 'demo.invalid')).toBe(`${'x'.repeat(55)}.${tag}@demo.invalid`);
  });

  it('refuses a domain that is not a host name', () => {
    for (const bad of ['', 'invalid', 'a..b', '-a.b', 'a b.c', 'x'.repeat(200) + '.com'])
      expect(() => sessionEmail('a@b.es', randomUUID(), bad), bad).toThrow(RangeError);
  });
});

describe('sessionSlug and sessionCode', () => {
  it('a slug is a DNS label within its length, tagged, deterministic, distinct per session', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 100 }),
        session,
        session,
        fc.integer({ min: 8, max: 80 }),
        (seed, a, b, max) => {
          const slug = sessionSlug(seed, a, max);
          expect(slug.length).toBeLessThanOrEqual(max);
          expect(slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
          expect(slug.endsWith(sessionTag(a))).toBe(true);
          expect(sessionSlug(seed, a, max)).toBe(slug);
          if (a !== b) expect(sessionSlug(seed, b, max)).not.toBe(slug);
        },
      ),
    );
    expect(sessionSlug('x'.repeat(100), randomUUID())).toHaveLength(63);
  });

  it('a code keeps its seed and gets the tag (upper case for upper-case codes)', () => {
    const s = randomUUID();
    expect(sessionCode('RUTA-00001', s)).toBe(`RUTA-00001-${sessionTag(s).toUpperCase()}`);
    expect(sessionCode('route-1', s)).toBe(`route-1-${sessionTag(s)}`);
    expect(sessionCode('RUTA-00001', s, 12)).toHaveLength(12);
  });

  it("the tag is the first 8 hex digits of the session's ids (so of its tenant ids)", () => {
    fc.assert(
      fc.property(session, fc.uuid({ version: 4 }), (s, base) => {
        expect(idMapperFor(s)(base).slice(0, 8)).toBe(sessionTag(s));
      }),
    );
  });

  it('the loader’s rewriter gives what the functions give', () => {
    const s = randomUUID();
    expect(identityRewriter('email', s, 'demo.invalid')('a.b@c.es')).toBe(sessionEmail('a.b@c.es', s, 'demo.invalid'));
    expect(identityRewriter('slug', s, 'demo.invalid', 63)('a-b')).toBe(sessionSlug('a-b', s));
    expect(identityRewriter('code', s, 'demo.invalid')('R-1')).toBe(sessionCode('R-1', s));
    expect(() => identityRewriter('email', s, 'nope')).toThrow(RangeError);
  });
});

describe('a session load', () => {
  /** Every text a profile's tables encode for a session, all services in order. */
  async function encodeAll(
    profile: string,
    sessionId: string,
    opts: { emailDomain?: string; subscriptionTier?: string },
  ) {
    const p = await loadProfile(SEED_DATA, profile);
    const published = new Map<EntityName, Map<string, string>>();
    let text = '';
    for (const service of WAVES.flat()) {
      const remote = new Map(consumedEntities(service).map((e) => [e, published.get(e) ?? new Map<string, string>()]));
      const { ctx, local } = transformContext(p, sessionId, '2026-11-25T10:00:00Z', service, remote, opts);
      for (const { spec, segments } of serviceTables(p, service)) {
        const encode = compileTable(spec, ctx, local.get(`${service}.${spec.name}`));
        for (const seg of segments)
          if (seg.kind === 'json') seg.records.forEach((r, i) => (text += encode(r, seg.file, i)));
      }
      for (const [e, m] of local) published.set(e, m);
    }
    return text;
  }

  it.each(['professional', 'enterprise'])(
    '%s: the same session id gives the same bytes (a retry), another session other emails and slugs',
    async (profile) => {
      const a = randomUUID();
      const first = await encodeAll(profile, a, { emailDomain: 'h20.demo.invalid' });
      expect(await encodeAll(profile, a, { emailDomain: 'h20.demo.invalid' })).toBe(first);
      const emails = (t: string) => new Set(t.match(/[a-z0-9._+-]+@[a-z0-9.-]+/g));
      const mine = emails(first);
      expect(mine.size).toBeGreaterThan(5);
      for (const e of mine) expect(e, e).toMatch(new RegExp(`\\.${sessionTag(a)}@h20\\.demo\\.invalid$`));
      const theirs = emails(await encodeAll(profile, randomUUID(), { emailDomain: 'h20.demo.invalid' }));
      expect([...mine].filter((e) => theirs.has(e))).toEqual([]);
    },
  );

  it('writes the requested tier to the main tenant only', async () => {
    const p = await loadProfile(SEED_DATA, 'enterprise');
    const s = randomUUID();
    const { ctx } = transformContext(p, s, '2026-11-25T10:00:00Z', 'tenant', new Map(), {
      subscriptionTier: 'starter',
    });
    const [spec] = serviceTables(p, 'tenant').map((t) => t);
    const seg = spec!.segments.flatMap((x) => (x.kind === 'json' ? x.records : []));
    const encode = compileTable(spec!.spec, ctx);
    const names = Object.keys(spec!.spec.columns);
    const tier = names.indexOf('subscription_tier');
    const rows = seg.map((r, i) => encode(r, 'f', i).trimEnd().split('\t'));
    const main = idMapperFor(s)(p.manifest.tenants[0]!.id);
    const outlets = p.manifest.tenants.slice(1).map((t) => idMapperFor(s)(t.id));
    const byId = new Map(rows.map((r) => [r[0], r[tier]]));
    expect(byId.get(main)).toBe('starter');
    for (const o of outlets) expect(byId.get(o)).toBe('enterprise');
  });
});

describe('the validator on identities', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'demo-seed-identities-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  type Doc = { tables: Record<string, Record<string, unknown>[]> };
  async function broken(
    edit: (files: { users: Doc; tenant: Doc; manifest: Record<string, unknown> }) => void,
  ): Promise<Awaited<ReturnType<typeof validateProfile>>> {
    const root = await mkdtemp(path.join(tmp, 'p-'));
    const dir = path.join(root, 'professional');
    await cp(path.join(SEED_DATA, 'professional'), dir, { recursive: true });
    const read = async (f: string) => JSON.parse(await readFile(path.join(dir, f), 'utf8')) as never;
    const files = {
      users: await read('01-users.json'),
      tenant: await read('00-tenant.json'),
      manifest: await read('manifest.json'),
    };
    edit(files);
    await writeFile(path.join(dir, '01-users.json'), JSON.stringify(files.users));
    await writeFile(path.join(dir, '00-tenant.json'), JSON.stringify(files.tenant));
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(files.manifest));
    return validateProfile(root, 'professional');
  }
  const users = (d: Doc) => d.tables['auth.users']!;

  it('passes the checked-in profiles', async () => {
    for (const p of ['professional', 'enterprise']) {
      const r = await validateProfile(SEED_DATA, p);
      expect(r.errors, p).toEqual([]);
      expect(r.warnings, p).toEqual([]);
    }
  });

  it('refuses a marked email that is not an address, naming file, record and field', async () => {
    let id = '';
    const r = await broken(({ users: u }) => {
      users(u)[1]!.email = 'javier at panaderia';
      id = users(u)[1]!.id as string;
    });
    expect(r.errors).toEqual([expect.objectContaining({ file: '01-users.json', record: id, field: 'email' })]);
    expect(r.errors[0]!.message).toMatch(/must be an email address/);
  });

  it('refuses two users with one email, or with two that a session makes one', async () => {
    let second = '';
    const same = await broken(({ users: u }) => {
      users(u)[2]!.email = users(u)[0]!.email;
      second = users(u)[2]!.id as string;
    });
    expect(same.errors).toEqual([expect.objectContaining({ file: '01-users.json', record: second, field: 'email' })]);
    expect(same.errors[0]!.message).toMatch(/also the email of/);
    const stem = await broken(({ users: u }) => {
      users(u)[2]!.email = 'maria.garcia@otro.es';
    });
    expect(stem.errors).toEqual([expect.objectContaining({ file: '01-users.json', field: 'email' })]);
    expect(stem.errors[0]!.message).toMatch(/get the same value in a session/);
  });

  it('refuses a slug longer than 63 characters, warns of one that is not a slug', async () => {
    const long = await broken(({ tenant }) => {
      tenant.tables['tenant.tenants']![0]!.slug = 'a'.repeat(64);
    });
    expect(long.errors).toEqual([expect.objectContaining({ file: '00-tenant.json', field: 'slug' })]);
    const odd = await broken(({ tenant }) => {
      tenant.tables['tenant.tenants']![0]!.slug = 'Panadería San Miguel';
    });
    expect(odd.errors).toEqual([]);
    expect(odd.warnings).toEqual([expect.objectContaining({ file: '00-tenant.json', field: 'slug' })]);
  });

  it('checks the owner: a user of the main tenant with that role; none is a warning', async () => {
    const unknown = await broken(({ manifest }) => {
      manifest.owner = { user_id: randomUUID(), role: 'owner' };
    });
    expect(unknown.errors).toEqual([expect.objectContaining({ file: 'manifest.json', field: 'owner.user_id' })]);
    const role = await broken(({ manifest }) => {
      manifest.owner = { ...(manifest.owner as object), role: 'sales' };
    });
    expect(role.errors).toEqual([expect.objectContaining({ file: 'manifest.json', field: 'owner.role' })]);
    const none = await broken(({ manifest }) => {
      delete manifest.owner;
    });
    expect(none.errors).toEqual([]);
    expect(none.warnings).toEqual([expect.objectContaining({ file: 'manifest.json', field: 'owner' })]);
  });
});
