import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES } from '../../src/catalog/services.ts';
import { deleteKeysMatching } from '../../src/redis/keys.ts';
import { countsOf, leftoverCount, sessionRows } from '../support/data-rules.ts';
import { createHarness, eventually, type Harness } from '../support/harness.ts';
import { readManifest, waitForEnd } from '../support/sessions.ts';

/** The reconciler repairs what a lost Redis or a stuck flow leaves behind. */
describe('recovery of lost jobs', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness({ RECONCILE_INTERVAL_MS: '300', DEMO_SESSION_TTL_SECONDS: '8' });
  });
  afterAll(async () => {
    await h?.close();
  });

  const flushPrefix = () => deleteKeysMatching(h.rt.redis, `${h.cfg.QUEUE_PREFIX}:*`);

  it('rebuilds a session whose queues and ID maps were lost mid-load; it ends ready with exact counts', async () => {
    const manifest = await readManifest('professional');
    // Only the first wave can run: the session stops half-loaded…
    const first = await h.startWorkers(['tenant', 'inventory', 'suppliers']);
    const s = await h.rt.producer.create({ profile: 'professional' });
    await eventually(async () => ((await h.rt.producer.view(s.session_id))?.services.inventory.status === 'ready' ? true : undefined), 20_000, 'wave 1');
    await first.close();
    // …then Redis loses everything of this deployment (as a restart without persistence would).
    expect(await flushPrefix()).toBeGreaterThan(0);
    await h.startWorkers();
    const v = await waitForEnd(h, s.session_id, 30_000);
    expect(v.status, v.error ?? '').toBe('ready');
    expect(countsOf(await sessionRows(h.rt.dbs, v.tenant_ids))).toEqual(manifest.counts);
  });

  it('restores a lost expiry, so the session still expires and leaves nothing', async () => {
    const s = await h.rt.producer.create({ profile: 'professional' });
    const v = await waitForEnd(h, s.session_id);
    expect(v.status).toBe('ready');
    await h.rt.redis.del(`${h.cfg.QUEUE_PREFIX}:demo-session:${s.session_id}-expire`);
    await eventually(async () => {
      const x = await h.rt.producer.view(s.session_id);
      return x?.status === 'expired' ? x : undefined;
    }, 30_000, 'expiry');
    expect(await leftoverCount(h.rt.dbs, v.tenant_ids)).toBe(0);
  });
});

describe('a session stuck loading', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ RECONCILE_INTERVAL_MS: '300', SESSION_LOAD_TIMEOUT_SECONDS: '8' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('fails a session stuck loading past SESSION_LOAD_TIMEOUT_SECONDS and removes what it loaded', async () => {
    // Nothing serves forecasting: the session cannot finish.
    await h.startWorkers(SERVICES.filter((x) => x !== 'forecasting'));
    const s = await h.rt.producer.create({ profile: 'professional' });
    const v = await waitForEnd(h, s.session_id, 30_000);
    expect(v.status).toBe('failed');
    expect(v.error).toMatch(/did not finish within 8 s/);
    expect(v.services.sales.status).toBe('removed');
    expect(await leftoverCount(h.rt.dbs, v.tenant_ids)).toBe(0);
  });
});
