import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { client, freshEmail, PATH, startTestApi } from './helpers.ts';

/**
 * CORS_ORIGINS: a browser on one of those origins may call the API (preflight answered,
 * Access-Control-Allow-Origin its own origin, never `*`); any other origin gets no CORS
 * header; every answer of the API varies on Origin. No workers: nothing needs to load.
 */
const ALLOWED = 'https://app.example.com';
const ALSO = 'http://localhost:5173';
const OTHER = 'https://evil.example.net';

describe('HTTP API: CORS', () => {
  let h: Harness;
  let api: RunningApi;
  let closed: RunningApi;

  const preflight = (a: RunningApi, path: string, origin: string, method = 'POST') =>
    client(a)
      .options(path)
      .set('Origin', origin)
      .set('Access-Control-Request-Method', method)
      .set('Access-Control-Request-Headers', 'content-type, idempotency-key, authorization');
  const noCorsHeaders = (headers: Record<string, string>) => {
    for (const k of Object.keys(headers)) expect(k.startsWith('access-control-'), k).toBe(false);
  };

  beforeAll(async () => {
    h = await createHarness();
    api = await startTestApi(h, { RATE_LIMIT_PER_MINUTE: 0, CORS_ORIGINS: [ALLOWED, ALSO] });
    closed = await startTestApi(h, { RATE_LIMIT_PER_MINUTE: 0 });
  });
  afterAll(async () => {
    await api?.close();
    await closed?.close();
    await h?.close();
  });

  it('answers a preflight from an allowed origin with that origin, the methods and the headers', async () => {
    for (const [origin, path, method] of [
      [ALLOWED, PATH, 'POST'],
      [ALSO, `${PATH}/00000000-0000-4000-8000-000000000000`, 'PATCH'],
      [ALLOWED, `${PATH}/introspect`, 'POST'],
    ] as const) {
      const res = await preflight(api, path, origin, method);
      expect(res.status, `${origin} ${path}`).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(origin);
      expect(res.headers['access-control-allow-methods']).toContain(method);
      const allowed = res.headers['access-control-allow-headers']!.toLowerCase();
      for (const hdr of ['content-type', 'idempotency-key', 'authorization']) expect(allowed).toContain(hdr);
      expect(res.headers['access-control-max-age']).toBe('600');
      expect(res.headers.vary).toMatch(/\bOrigin\b/);
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    }
  });

  it('gives a preflight from any other origin no CORS header', async () => {
    for (const origin of [OTHER, 'https://app.example.com.evil.net', 'null', 'https://APP.example.com:443x']) {
      const res = await preflight(api, PATH, origin);
      expect(res.status).not.toBe(204);
      noCorsHeaders(res.headers);
      expect(res.headers.vary).toMatch(/\bOrigin\b/);
    }
  });

  it('lets an allowed origin read a POST answer (and its Location), not another origin', async () => {
    const body = JSON.stringify({ demo_account_type: 'professional', email: freshEmail('cors') });
    const ok = await client(api).post(PATH).set('Origin', ALLOWED).set('Content-Type', 'application/json').send(body);
    expect(ok.status, ok.text).toBe(202);
    expect(ok.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(ok.headers['access-control-expose-headers']).toContain('Location');
    expect(ok.headers.vary).toMatch(/\bOrigin\b/);
    const get = await client(api)
      .get(`${PATH}/${String(ok.body.session_id)}`)
      .set('Origin', OTHER);
    expect(get.status).toBe(200);
    noCorsHeaders(get.headers);
  });

  it('covers the JWKS, but not the board, the health probes or the metrics', async () => {
    const jwks = await client(api).get('/.well-known/jwks.json').set('Origin', ALLOWED);
    expect(jwks.status).toBe(200);
    expect(jwks.headers['access-control-allow-origin']).toBe(ALLOWED);
    for (const path of ['/admin/queues', '/healthz', '/metrics']) {
      const res = await client(api).get(path).set('Origin', ALLOWED);
      noCorsHeaders(res.headers);
      const pre = await preflight(api, path, ALLOWED, 'GET');
      noCorsHeaders(pre.headers);
    }
  });

  it('without CORS_ORIGINS (the default) no origin gets a CORS header, and `*` is never sent', async () => {
    const pre = await preflight(closed, PATH, ALLOWED);
    expect(pre.status).not.toBe(204);
    noCorsHeaders(pre.headers);
    const get = await client(closed).get('/.well-known/jwks.json').set('Origin', ALLOWED);
    noCorsHeaders(get.headers);
    for (const a of [api, closed]) {
      const res = await client(a).get('/.well-known/jwks.json').set('Origin', '*');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
  });
});
