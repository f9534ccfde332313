import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.ts';
import type { SessionView } from '../../src/sessions/session-view.ts';
import { sessionKeys } from '../../src/redis/keys.ts';
import { leftoverCount } from '../support/data-rules.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { freshEmail, openSse, PATH, postSession, startTestApi, waitForStatus } from './helpers.ts';

/** A session created through the API with a 5 s TTL ends `expired`, with nothing left behind. */
describe('HTTP API: session expiry', () => {
  let h: Harness;
  let api: RunningApi;

  beforeAll(async () => {
    h = await createHarness({ DEMO_SESSION_TTL_SECONDS: '5' });
    await h.startWorkers();
    api = await startTestApi(h, { RATE_LIMIT_PER_MINUTE: 0 });
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
  });

  it('loads, then expires after its TTL: status expired, no row and no Redis key left', async () => {
    const res = await postSession(api, { demo_account_type: 'professional', email: freshEmail() });
    expect(res.status, res.text).toBe(202);
    const created = res.body as { session_id: string; expires_at: string };
    const ttl = new Date(created.expires_at).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(3_000);
    expect(ttl).toBeLessThanOrEqual(5_000);

    const ready = await waitForStatus(api, created.session_id, ['ready']);
    expect(await leftoverCount(h.rt.dbs, ready.tenant_ids)).toBeGreaterThan(0);

    // The event stream of a ready session ends at once; a fresh one opened now ends too.
    const expired = await waitForStatus(api, created.session_id, ['expired'], 30_000);
    expect(Date.now()).toBeGreaterThanOrEqual(new Date(created.expires_at).getTime());
    expect(await leftoverCount(h.rt.dbs, expired.tenant_ids)).toBe(0);
    expect(await h.rt.redis.exists(...sessionKeys(h.cfg.QUEUE_PREFIX, created.session_id))).toBe(0);

    const sse = await openSse(api, `${PATH}/${created.session_id}/events`);
    await sse.ended;
    expect(sse.events.map((e) => e.event)).toEqual(['end']);
    expect((JSON.parse(sse.events[0]!.data) as SessionView).status).toBe('expired');
  });
});
