import express from 'express';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorHandler } from '../../src/api/errors.ts';
import { createRateLimit } from '../../src/api/rate-limit.ts';
import type { RunningApi } from '../../src/api/server.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { deleteKeysMatching } from '../../src/redis/keys.ts';
import { applyTrustProxy, parseTrustProxy } from '../../src/api/trust-proxy.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { client, expectErrorShape, freshEmail, PATH, postSession, startTestApi } from './helpers.ts';

/** The per-client limit on POST (RATE_LIMIT_PER_MINUTE) and what a client is (TRUST_PROXY). No workers. */
describe('HTTP API: rate limit', () => {
  let h: Harness;
  const apis: RunningApi[] = [];
  const start = async (overrides: Parameters<typeof startTestApi>[1]) => {
    const api = await startTestApi(h, overrides);
    apis.push(api);
    return api;
  };

  beforeAll(async () => {
    h = await createHarness();
  });
  // The counters live in Redis under the queue prefix, shared by every API of this file.
  beforeEach(async () => {
    await deleteKeysMatching(h.rt.redis, `${h.cfg.QUEUE_PREFIX}:rate-limit:*`);
  });
  afterAll(async () => {
    await Promise.all(apis.map((a) => a.close()));
    await h?.close();
  });

  const post = (api: RunningApi, forwardedFor?: string) =>
    postSession(
      api,
      { demo_account_type: 'professional', email: freshEmail('rl') },
      forwardedFor ? { 'X-Forwarded-For': forwardedFor } : {},
    );

  it('answers 429 rate_limited after RATE_LIMIT_PER_MINUTE requests, with standard RateLimit headers', async () => {
    const api = await start({ RATE_LIMIT_PER_MINUTE: 3 });
    for (let i = 0; i < 3; i++) {
      const ok = await post(api);
      expect(ok.status, ok.text).toBe(202);
      expect(ok.headers['ratelimit-policy']).toMatch(/q=3; w=60/);
      expect(ok.headers.ratelimit).toMatch(new RegExp(`r=${2 - i}`));
    }
    const limited = await post(api);
    expectErrorShape(limited, 429, 'rate_limited');
    expect(limited.headers.ratelimit).toMatch(/r=0/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Bad requests count too: the limit is on attempts, not on successes.
    expectErrorShape(await postSession(api, {}), 429, 'rate_limited');
    // Only POST is limited.
    expect((await client(api).get('/healthz')).status).toBe(200);
    expect((await client(api).get(`${PATH}/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
  });

  it('every API replica counts against one limit: the counters are in Redis', async () => {
    const [a, b] = [await start({ RATE_LIMIT_PER_MINUTE: 3 }), await start({ RATE_LIMIT_PER_MINUTE: 3 })];
    expect((await post(a)).status).toBe(202);
    expect((await post(b)).status).toBe(202);
    expect((await post(a)).status).toBe(202);
    expectErrorShape(await post(b), 429, 'rate_limited');
    expectErrorShape(await post(a), 429, 'rate_limited');
    expect((await h.rt.redis.keys(`${h.cfg.QUEUE_PREFIX}:rate-limit:*`)).length).toBe(1);
  });

  it('lets requests through while Redis does not answer, and counts again once it does (scripts loaded late)', async () => {
    // The real Redis behind a switch: while `down`, every command fails as on a lost connection.
    let down = true;
    const redis = {
      call: (command: string, ...args: string[]) =>
        down ? Promise.reject(new Error('Connection is closed.')) : h.rt.redis.call(command, ...args),
    } as unknown as Redis;
    const limit = createRateLimit(1, createLogger('silent'), { redis, prefix: h.cfg.QUEUE_PREFIX });
    const app = express();
    app.post('/x', limit!, (_req, res) => void res.status(202).json({ ok: true }));
    app.use(errorHandler(createLogger('silent')));
    await new Promise((r) => setTimeout(r, 50)); // the failed script loads settle
    expect((await request(app).post('/x')).status).toBe(202);
    expect((await request(app).post('/x')).status).toBe(202);

    down = false;
    expect((await request(app).post('/x')).status).toBe(202);
    const limited = await request(app).post('/x');
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
  });

  it('RATE_LIMIT_PER_MINUTE=0 turns the limit off', async () => {
    const api = await start({ RATE_LIMIT_PER_MINUTE: 0 });
    for (let i = 0; i < 5; i++) expect((await post(api)).status).toBe(202);
    expect((await post(api)).headers.ratelimit).toBeUndefined();
  });

  it('TRUST_PROXY=false: X-Forwarded-For is ignored, every request is the same client', async () => {
    const api = await start({ RATE_LIMIT_PER_MINUTE: 2, TRUST_PROXY: 'false' });
    expect((await post(api, '203.0.113.1')).status).toBe(202);
    expect((await post(api, '203.0.113.2')).status).toBe(202);
    expectErrorShape(await post(api, '203.0.113.3'), 429, 'rate_limited');
  });

  it('TRUST_PROXY=loopback: each forwarded client has its own limit', async () => {
    const api = await start({ RATE_LIMIT_PER_MINUTE: 2, TRUST_PROXY: 'loopback' });
    expect((await post(api, '203.0.113.1')).status).toBe(202);
    expect((await post(api, '203.0.113.1')).status).toBe(202);
    expectErrorShape(await post(api, '203.0.113.1'), 429, 'rate_limited');
    expect((await post(api, '203.0.113.2')).status).toBe(202);
    // A client cannot pick a fresh address through a spoofed first hop: the proxy's view (last hop) counts.
    expectErrorShape(await post(api, '198.51.100.7, 203.0.113.1'), 429, 'rate_limited');
  });

  it('TRUST_PROXY=1 (one hop) behaves the same for a single proxy', async () => {
    const api = await start({ RATE_LIMIT_PER_MINUTE: 1, TRUST_PROXY: '1' });
    expect((await post(api, '203.0.113.9')).status).toBe(202);
    expectErrorShape(await post(api, '203.0.113.9'), 429);
    expect((await post(api, '203.0.113.10')).status).toBe(202);
  });

  describe('parseTrustProxy', () => {
    it.each([
      ['false', false],
      ['', false],
      ['FALSE', false],
      ['true', true],
      ['2', 2],
      ['0', 0],
      ['loopback', ['loopback']],
      ['10.0.0.0/8, 172.16.0.0/12,loopback', ['10.0.0.0/8', '172.16.0.0/12', 'loopback']],
    ] as const)('%j', (value, expected) => {
      expect(parseTrustProxy(value)).toEqual(expected);
    });

    it('a bad subnet list fails at start, naming TRUST_PROXY', async () => {
      expect(() => applyTrustProxy(express(), '10.0.0.0/99')).toThrow(/TRUST_PROXY/);
      expect(() => applyTrustProxy(express(), 'not-an-address')).toThrow(/TRUST_PROXY/);
      await expect(startTestApi(h, { TRUST_PROXY: '10.0.0.0/99' })).rejects.toThrow(/TRUST_PROXY/);
    });
  });
});
