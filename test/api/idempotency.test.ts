import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { expectErrorShape, freshEmail, PATH, postSession, startTestApi } from './helpers.ts';

/** POST with an Idempotency-Key: a retry answers with the session the first request made. No workers. */
describe('HTTP API: Idempotency-Key on POST', () => {
  let h: Harness;
  const apis: RunningApi[] = [];
  const start = async (overrides: Parameters<typeof startTestApi>[1] = {}) => {
    const api = await startTestApi(h, { RATE_LIMIT_PER_MINUTE: 0, ...overrides });
    apis.push(api);
    return api;
  };
  const post = (api: RunningApi, body: Record<string, unknown>, key?: string) =>
    postSession(api, body, key === undefined ? {} : { 'Idempotency-Key': key });
  const sessionsOf = async (email: string) =>
    (
      await h.rt.dbs
        .pool('demo_session')
        .query<{ session_id: string }>('SELECT session_id FROM demo_sessions WHERE email = $1', [email])
    ).rows.map((r) => r.session_id);

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await Promise.all(apis.map((a) => a.close()));
    await h?.close();
  });

  it('a retry with the same key answers with the first session, marked as a replay', async () => {
    const api = await start();
    const body = { demo_account_type: 'professional', email: freshEmail('idem') };
    const key = randomUUID();
    const first = await post(api, body, key);
    expect(first.status, first.text).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await post(api, { ...body, email: body.email.toUpperCase() }, key);
    expect(again.status, again.text).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.session_id).toBe(first.body.session_id);
    expect(again.headers.location).toBe(`${PATH}/${first.body.session_id}`);
    expect(await sessionsOf(body.email)).toEqual([first.body.session_id]);
    // Without a key, the same body makes another session.
    expect((await post(api, body)).body.session_id).not.toBe(first.body.session_id);
  });

  it('concurrent requests with one key, on two API replicas, make one session', async () => {
    const [a, b] = [await start(), await start()];
    const body = { demo_account_type: 'professional', email: freshEmail('race') };
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => post(i % 2 ? a : b, body, key)));
    for (const r of answers) expect(r.status, r.text).toBe(202);
    const ids = new Set(answers.map((r) => r.body.session_id as string));
    expect(ids.size).toBe(1);
    expect(answers.filter((r) => r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
    expect(await sessionsOf(body.email)).toEqual([...ids]);
  });

  it('a key used with another body is 422 idempotency_key_reused, and makes nothing', async () => {
    const api = await start();
    const email = freshEmail('reuse');
    const key = randomUUID();
    expect((await post(api, { demo_account_type: 'professional', email }, key)).status).toBe(202);
    expectErrorShape(await post(api, { demo_account_type: 'enterprise', email }, key), 422, 'idempotency_key_reused');
    expectErrorShape(
      await post(api, { demo_account_type: 'professional', email, subscription_tier: 'starter' }, key),
      422,
      'idempotency_key_reused',
    );
    expect(await sessionsOf(email)).toHaveLength(1);
  });

  it('a malformed key is 400 naming the header', async () => {
    const api = await start();
    const body = { demo_account_type: 'professional', email: freshEmail('bad') };
    for (const key of ['', 'a b', 'x'.repeat(256), 'a\tb']) {
      const res = await post(api, body, key);
      expectErrorShape(res, 400, 'validation_error');
      expect(res.body.error.message).toMatch(/Idempotency-Key/);
    }
    expect(await sessionsOf(body.email)).toHaveLength(0);
  });

  it('a replay is not refused by the per-email cap that a new session would hit', async () => {
    const api = await start({ MAX_SESSIONS_PER_EMAIL: 1 });
    const body = { demo_account_type: 'professional', email: freshEmail('cap') };
    const key = randomUUID();
    const first = await post(api, body, key);
    expect(first.status).toBe(202);
    const again = await post(api, body, key);
    expect(again.status, again.text).toBe(202);
    expect(again.body.session_id).toBe(first.body.session_id);
    expectErrorShape(await post(api, body, randomUUID()), 429, 'too_many_sessions');
  });
});
