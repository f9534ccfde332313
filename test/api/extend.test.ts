import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionExtendedSchema } from '../../src/api/schemas.ts';
import type { RunningApi } from '../../src/api/server.ts';
import { SESSION_QUEUE } from '../../src/flows/jobs.ts';
import { expireJobId } from '../../src/flows/options.ts';
import { redisReady } from '../../src/redis/connection.ts';
import { sessionKeys } from '../../src/redis/keys.ts';
import { createRuntime } from '../../src/runtime/runtime.ts';
import type { SessionView } from '../../src/sessions/session-view.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { client, expectErrorShape, freshEmail, PATH, postSession, startTestApi, waitForStatus } from './helpers.ts';

/**
 * PATCH /api/v1/demo-sessions/{id} {extend_seconds} with the session's token: the record's
 * expires_at, the delayed expire job (its score in BullMQ's delayed set) and the session's
 * Redis keys' TTL move; refusals without a token (401), with another session's (403), past
 * DEMO_SESSION_MAX_TTL_SECONDS (422), for a session that is not ready (409), bad bodies (400).
 */
interface Access {
  token: string;
  expires_at: string;
}
interface Created {
  id: string;
  access: Access;
  ready: SessionView;
}

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number; sid: string };

describe('HTTP API: extending a session', () => {
  let h: Harness;
  let api: RunningApi;

  const create = async (a: RunningApi = api): Promise<Created> => {
    const res = await postSession(a, { demo_account_type: 'professional', email: freshEmail('extend') });
    expect(res.status, res.text).toBe(202);
    const id = res.body.session_id as string;
    return { id, access: res.body.access as Access, ready: await waitForStatus(a, id, ['ready'], 90_000) };
  };
  const patch = (id: string, body: unknown, token?: string, a: RunningApi = api) => {
    const req = client(a).patch(`${PATH}/${id}`).set('Content-Type', 'application/json');
    if (token !== undefined) req.set('Authorization', `Bearer ${token}`);
    return req.send(typeof body === 'string' ? body : JSON.stringify(body));
  };
  /** When the expire job is due (ms), from its score in the session queue's delayed set. */
  const expireDueAt = async (id: string): Promise<number | undefined> => {
    const score = await h.rt.redis.zscore(`${h.cfg.QUEUE_PREFIX}:${SESSION_QUEUE}:delayed`, expireJobId(id));
    return score === null ? undefined : Math.floor(Number(score) / 0x1000);
  };
  /** The TTL (s) of the session's Redis keys that exist. */
  const keyTtls = async (id: string): Promise<number[]> => {
    const ttls = await Promise.all(sessionKeys(h.cfg.QUEUE_PREFIX, id).map((k) => h.rt.redis.ttl(k)));
    return ttls.filter((t) => t !== -2);
  };

  beforeAll(async () => {
    h = await createHarness();
    await h.startWorkers();
    api = await startTestApi(h, { RATE_LIMIT_PER_MINUTE: 0 });
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await h?.close();
  });

  describe('one ready session', () => {
    let a: Created;
    let b: Created;
    beforeAll(async () => {
      [a, b] = [await create(), await create()];
    }, 200_000);

    it('401 without a token or with one that does not verify; 403 with another session’s; 400 for a bad id', async () => {
      const none = await patch(a.id, { extend_seconds: 60 });
      expectErrorShape(none, 401, 'unauthorized');
      expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
      const basic = await client(api)
        .patch(`${PATH}/${a.id}`)
        .set('Authorization', 'Basic YWRtaW46YWRtaW4=')
        .send({ extend_seconds: 60 });
      expectErrorShape(basic, 401, 'unauthorized');
      const garbage = await patch(a.id, { extend_seconds: 60 }, 'not.a.token');
      expectErrorShape(garbage, 401, 'invalid_token');
      expect(garbage.headers['www-authenticate']).toContain('error="invalid_token"');
      const other = await patch(a.id, { extend_seconds: 60 }, b.access.token);
      expectErrorShape(other, 403, 'forbidden');
      expectErrorShape(await patch('not-a-uuid', { extend_seconds: 60 }, a.access.token), 400, 'invalid_session_id');
      // the token comes first: a bad body without a token is still 401
      expectErrorShape(await patch(a.id, '{"extend_seconds":'), 401, 'unauthorized');
      // nothing moved
      const view = (await client(api).get(`${PATH}/${a.id}`)).body as SessionView;
      expect(view.expires_at).toBe(a.ready.expires_at);
    });

    it('400 for bad bodies, 415 for another media type', async () => {
      for (const body of [
        {},
        { extend_seconds: 0 },
        { extend_seconds: -5 },
        { extend_seconds: 1.5 },
        { extend_seconds: '60' },
        [],
      ]) {
        const res = await patch(a.id, body, a.access.token);
        expectErrorShape(res, 400, 'validation_error');
      }
      expectErrorShape(await patch(a.id, '{"extend_seconds":', a.access.token), 400, 'invalid_json');
      const text = await client(api)
        .patch(`${PATH}/${a.id}`)
        .set('Authorization', `Bearer ${a.access.token}`)
        .set('Content-Type', 'text/plain')
        .send('extend_seconds=60');
      expectErrorShape(text, 415, 'unsupported_media_type');
    });

    it('moves expires_at, the expire job and the Redis keys’ TTL, and answers a fresh token with the new exp', async () => {
      const before = Date.parse(a.ready.expires_at);
      const due = await expireDueAt(a.id);
      expect(due).toBeDefined();
      expect(Math.abs(due! - before)).toBeLessThan(2_000);
      const ttlsBefore = await keyTtls(a.id);
      expect(ttlsBefore.length).toBeGreaterThan(0);

      const res = await patch(a.id, { extend_seconds: 900 }, a.access.token);
      expect(res.status, res.text).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      SessionExtendedSchema.parse(res.body);
      const body = res.body as SessionView & { access: Access & { user: { id: string } } };
      expect(body.session_id).toBe(a.id);
      expect(body.status).toBe('ready');
      const after = Date.parse(body.expires_at);
      expect(after - before).toBe(900_000);
      expect(body.access.expires_at).toBe(body.expires_at);
      const claims = claimsOf(body.access.token);
      expect(claims.exp * 1000).toBe(after);
      expect(claims.sid).toBe(a.id);
      expect(body.access.token).not.toBe(a.access.token);

      // the record, as GET tells it
      const view = (await client(api).get(`${PATH}/${a.id}`)).body as SessionView;
      expect(view.expires_at).toBe(body.expires_at);
      // the expire job is due at the new time
      expect(Math.abs((await expireDueAt(a.id))! - after)).toBeLessThan(2_000);
      // every key of the session lives 900 s longer (an hour past the session, as at creation)
      const ttlsAfter = await keyTtls(a.id);
      expect(ttlsAfter).toHaveLength(ttlsBefore.length);
      for (const t of ttlsAfter) {
        expect(t).toBeGreaterThan(Math.min(...ttlsBefore) + 900 - 10);
        expect(t).toBeLessThanOrEqual(Math.ceil((after - Date.now()) / 1000) + 3600 + 1);
      }
      // the new token works for the next extension, and introspects active
      const intro = await client(api).post(`${PATH}/introspect`).type('form').send({ token: body.access.token });
      expect(intro.body).toMatchObject({ active: true, sid: a.id, exp: claims.exp });
      a = { ...a, access: body.access, ready: view };
    });

    it('two extensions at once both count, and the job follows the later one', async () => {
      const before = Date.parse(a.ready.expires_at);
      const [r1, r2] = await Promise.all([
        patch(a.id, { extend_seconds: 60 }, a.access.token),
        patch(a.id, { extend_seconds: 120 }, a.access.token),
      ]);
      expect(r1.status, r1.text).toBe(200);
      expect(r2.status, r2.text).toBe(200);
      const view = (await client(api).get(`${PATH}/${a.id}`)).body as SessionView;
      expect(Date.parse(view.expires_at) - before).toBe(180_000);
      expect(Math.abs((await expireDueAt(a.id))! - Date.parse(view.expires_at))).toBeLessThan(2_000);
      a = { ...a, ready: view };
    });

    it('422 past DEMO_SESSION_MAX_TTL_SECONDS after creation, naming it; up to the maximum is fine', async () => {
      const max = h.cfg.DEMO_SESSION_MAX_TTL_SECONDS;
      const latest = Date.parse(a.ready.created_at) + max * 1000;
      const left = Math.floor((latest - Date.parse(a.ready.expires_at)) / 1000);
      expect(left).toBeGreaterThan(0);
      const over = await patch(a.id, { extend_seconds: left + 1 }, a.access.token);
      expectErrorShape(over, 422, 'max_ttl_exceeded');
      expect(over.body.error.message).toContain('DEMO_SESSION_MAX_TTL_SECONDS');
      expect(over.body.error.message).toContain(String(left));
      const beyondSchema = await patch(a.id, { extend_seconds: max + 1 }, a.access.token);
      expectErrorShape(beyondSchema, 400, 'validation_error');
      expect(beyondSchema.text).toContain('DEMO_SESSION_MAX_TTL_SECONDS');
      const due = await expireDueAt(a.id);
      const exact = await patch(a.id, { extend_seconds: left }, a.access.token);
      expect(exact.status, exact.text).toBe(200);
      expect(Date.parse((exact.body as SessionView).expires_at)).toBeLessThanOrEqual(latest);
      expect(await expireDueAt(a.id)).toBeGreaterThan(due!);
      expectErrorShape(await patch(a.id, { extend_seconds: 1 }, a.access.token), 422, 'max_ttl_exceeded');
    });

    it('409 for a session that is not ready (deleted), with its own token', async () => {
      const del = await client(api).delete(`${PATH}/${b.id}`);
      expect(del.status, del.text).toBe(202);
      const res = await patch(b.id, { extend_seconds: 60 }, b.access.token);
      expectErrorShape(res, 409, 'session_not_ready');
      await waitForStatus(api, b.id, ['destroyed'], 60_000);
      expectErrorShape(await patch(b.id, { extend_seconds: 60 }, b.access.token), 409, 'session_not_ready');
    }, 90_000);
  });

  it('an extended session outlives its first expiry and expires at the new one (TTL 10 s, +6 s)', async () => {
    const rt = createRuntime({ ...h.cfg, DEMO_SESSION_TTL_SECONDS: 10 }, h.rt.log);
    await redisReady(rt.redis);
    const short = await startTestApi(h, { RATE_LIMIT_PER_MINUTE: 0, DEMO_SESSION_TTL_SECONDS: 10 }, { runtime: rt });
    try {
      const s = await create(short);
      const first = Date.parse(s.ready.expires_at);
      const res = await patch(s.id, { extend_seconds: 6 }, s.access.token, short);
      expect(res.status, res.text).toBe(200);
      const second = Date.parse((res.body as SessionView).expires_at);
      expect(second - first).toBe(6_000);
      // past the first expiry (and the expire job's first due time), still ready
      await new Promise((r) => setTimeout(r, Math.max(0, first - Date.now()) + 1_500));
      expect(((await client(short).get(`${PATH}/${s.id}`)).body as SessionView).status).toBe('ready');
      const end = await waitForStatus(short, s.id, ['expired'], 60_000);
      expect(end.status).toBe('expired');
      // not before the new expiry: the cleanup began after it
      const { rows } = await h.rt.dbs
        .pool('demo_session')
        .query<{ updated_at: Date }>('SELECT updated_at FROM demo_sessions WHERE session_id = $1', [s.id]);
      expect(rows[0]!.updated_at.getTime()).toBeGreaterThanOrEqual(second);
    } finally {
      await short.close();
      await rt.close();
    }
  }, 120_000);
});
