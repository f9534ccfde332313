import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionCreatedSchema, SessionViewSchema } from '../../src/api/schemas.ts';
import type { RunningApi } from '../../src/api/server.ts';
import { SERVICES } from '../../src/catalog/services.ts';
import type { SessionView } from '../../src/sessions/session-view.ts';
import { leftoverCount } from '../support/data-rules.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { readManifest } from '../support/sessions.ts';
import { client, expectErrorShape, freshEmail, PATH, postSession, startTestApi, waitForStatus } from './helpers.ts';

/** The contract's session routes end to end: POST, GET until ready, DELETE until destroyed, errors, the per-email cap. */
describe('HTTP API: demo sessions', () => {
  let h: Harness;
  let api: RunningApi;

  beforeAll(async () => {
    h = await createHarness();
    await h.startWorkers();
    api = await startTestApi(h, { RATE_LIMIT_PER_MINUTE: 0 });
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
  });

  describe('POST then GET until ready', () => {
    let created: Record<string, unknown>;
    let ready: SessionView;

    beforeAll(async () => {
      const res = await postSession(api, {
        demo_account_type: 'professional',
        email: freshEmail(),
        subscription_tier: 'professional',
      });
      expect(res.status, res.text).toBe(202);
      created = res.body as Record<string, unknown>;
      expect(res.headers.location).toBe(`${PATH}/${String(created.session_id)}`);
      ready = await waitForStatus(api, created.session_id as string, ['ready']);
    });

    it('answers 202 with exactly the contract fields', () => {
      expect(Object.keys(created).sort()).toEqual([
        'access',
        'demo_account_type',
        'expires_at',
        'session_id',
        'status',
        'tenant_id',
        'tenant_ids',
      ]);
      SessionCreatedSchema.parse(created);
      expect(created.status).toBe('pending');
      expect(created.demo_account_type).toBe('professional');
      expect(created.tenant_ids).toEqual([created.tenant_id]);
      const ttl = new Date(created.expires_at as string).getTime() - Date.now();
      expect(ttl).toBeGreaterThan((h.cfg.DEMO_SESSION_TTL_SECONDS - 120) * 1000);
    });

    it('GET ends ready, with rows and duration_ms for each of the 11 services', async () => {
      SessionViewSchema.parse(ready);
      expect(ready.session_id).toBe(created.session_id);
      expect(ready.tenant_id).toBe(created.tenant_id);
      expect(ready.duration_ms).toBeGreaterThan(0);
      expect(ready.error).toBeNull();
      expect(ready.subscription_tier).toBe('professional');
      const manifest = await readManifest('professional');
      expect(Object.keys(ready.services).sort()).toEqual([...SERVICES].sort());
      for (const s of SERVICES) {
        const expected = Object.values(manifest.counts[s] ?? {}).reduce((a, b) => a + b, 0);
        expect(ready.services[s].status, s).toBe('ready');
        expect(ready.services[s].rows, s).toBe(expected);
        expect(ready.services[s].duration_ms, s).toEqual(expect.any(Number));
      }
    });

    it('DELETE answers 202, the session ends destroyed and no row is left', async () => {
      expect(await leftoverCount(h.rt.dbs, ready.tenant_ids)).toBeGreaterThan(0);
      const res = await client(api).delete(`${PATH}/${ready.session_id}`);
      expect(res.status, res.text).toBe(202);
      expect(['destroying', 'destroyed']).toContain((res.body as SessionView).status);
      await waitForStatus(api, ready.session_id, ['destroyed']);
      expect(await leftoverCount(h.rt.dbs, ready.tenant_ids)).toBe(0);
      // Again: nothing left to do, still 202.
      const again = await client(api).delete(`${PATH}/${ready.session_id}`);
      expect(again.status).toBe(202);
      expect((again.body as SessionView).status).toBe('destroyed');
    });
  });

  it('loads an enterprise session (4 tenants) too', async () => {
    const res = await postSession(api, { demo_account_type: 'enterprise', email: freshEmail() });
    expect(res.status, res.text).toBe(202);
    const body = res.body as { session_id: string; tenant_ids: string[]; tenant_id: string };
    expect(body.tenant_ids).toHaveLength(4);
    expect(body.tenant_ids[0]).toBe(body.tenant_id);
    const v = await waitForStatus(api, body.session_id, ['ready']);
    for (const s of SERVICES) expect(v.services[s].status).toBe('ready');
  });

  it('DELETE of a session still loading ends destroyed with nothing left', async () => {
    const res = await postSession(api, { demo_account_type: 'enterprise', email: freshEmail() });
    expect(res.status).toBe(202);
    const { session_id, tenant_ids } = res.body as { session_id: string; tenant_ids: string[] };
    const del = await client(api).delete(`${PATH}/${session_id}`);
    expect(del.status, del.text).toBe(202);
    await waitForStatus(api, session_id, ['destroyed']);
    // A load job still running when the cleanup passed must not leave rows behind.
    await new Promise((r) => setTimeout(r, 500));
    expect(await leftoverCount(h.rt.dbs, tenant_ids)).toBe(0);
  });

  it('unknown session: 404 on GET, DELETE and events', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    for (const res of [
      await client(api).get(`${PATH}/${id}`),
      await client(api).delete(`${PATH}/${id}`),
      await client(api).get(`${PATH}/${id}/events`),
    ]) {
      expectErrorShape(res, 404, 'session_not_found');
    }
  });

  it.each([
    'not-a-uuid',
    '123',
    '00000000-0000-4000-8000-00000000000',
    '00000000-0000-4000-8000-0000000000000',
    'g0000000-0000-4000-8000-000000000000',
    '%20',
    '..',
    'x'.repeat(5000),
  ])('malformed session id %#: 400 invalid_session_id', async (id) => {
    for (const res of [
      await client(api).get(`${PATH}/${id}`),
      await client(api).delete(`${PATH}/${id}`),
      await client(api).get(`${PATH}/${id}/events`),
    ]) {
      expectErrorShape(res, 400, 'invalid_session_id');
    }
  });

  it('a broken percent-encoding in the id is a 400, not a 500', async () => {
    expectErrorShape(await client(api).get(`${PATH}/%E0%A4%A`), 400);
  });

  it('other methods: 405 with Allow; other paths: 404 in the error shape', async () => {
    const put = await client(api).put(PATH).send({});
    expectErrorShape(put, 405, 'method_not_allowed');
    expect(put.headers.allow).toBe('POST');
    const put2 = await client(api).put(`${PATH}/00000000-0000-4000-8000-000000000000`);
    expectErrorShape(put2, 405, 'method_not_allowed');
    expect(put2.headers.allow).toBe('GET, PATCH, DELETE');
    expectErrorShape(await client(api).get('/api/v1/nothing-here'), 404, 'not_found');
    expectErrorShape(await client(api).get(PATH), 405);
  });

  describe('live sessions per email (MAX_SESSIONS_PER_EMAIL = 2)', () => {
    let capped: RunningApi;
    beforeAll(async () => {
      capped = await startTestApi(h, { RATE_LIMIT_PER_MINUTE: 0, MAX_SESSIONS_PER_EMAIL: 2 });
    });
    afterAll(async () => {
      await capped?.close();
    });

    it('refuses a third live session for the same email (any letter case) with 429 too_many_sessions', async () => {
      const email = freshEmail('cap');
      const a = await postSession(capped, { demo_account_type: 'professional', email });
      const b = await postSession(capped, { demo_account_type: 'professional', email: email.toUpperCase() });
      expect([a.status, b.status]).toEqual([202, 202]);
      const c = await postSession(capped, { demo_account_type: 'professional', email });
      expectErrorShape(c, 429, 'too_many_sessions');
      // Another email is not affected.
      expect((await postSession(capped, { demo_account_type: 'professional', email: freshEmail('cap') })).status).toBe(
        202,
      );
      // A destroyed session no longer counts.
      const id = (a.body as { session_id: string }).session_id;
      expect((await client(capped).delete(`${PATH}/${id}`)).status).toBe(202);
      expect((await postSession(capped, { demo_account_type: 'professional', email })).status).toBe(202);
    });

    it('holds under concurrent requests: exactly 2 of 6 are accepted', async () => {
      const email = freshEmail('race');
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => postSession(capped, { demo_account_type: 'professional', email })),
      );
      const statuses = answers.map((r) => r.status).sort();
      expect(statuses).toEqual([202, 202, 429, 429, 429, 429]);
    });
  });
});
