import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { client, expectErrorShape, freshEmail, PATH, postSession, startTestApi } from './helpers.ts';

/**
 * Bad input of every kind answers 4xx in the error shape, never 5xx nor a stack
 * trace; the OpenAPI document describes the answers actually given. No workers:
 * sessions created here stay pending.
 */
describe('HTTP API: input validation', () => {
  let h: Harness;
  let api: RunningApi;

  beforeAll(async () => {
    h = await createHarness();
    api = await startTestApi(h, { RATE_LIMIT_PER_MINUTE: 0, MAX_SESSIONS_PER_EMAIL: 0 });
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
  });

  const raw = (body: string, type = 'application/json') => client(api).post(PATH).set('Content-Type', type).send(body);
  const detailPaths = (res: { body: unknown }) =>
    ((res.body as { error: { details?: { path: string }[] } }).error.details ?? []).map((d) => d.path);

  it.each([
    '{bad',
    '{"demo_account_type": "professional",',
    '{"a": 1,}',
    "{'a': 1}",
    'null',
    '"professional"',
    '42',
    'true',
    '\u0000',
    '{"a": "\\x"}',
  ])('malformed JSON %j: 400 invalid_json', async (body) => {
    expectErrorShape(await raw(body), 400, 'invalid_json');
  });

  it('a JSON array, or an empty body, is a 400 validation_error', async () => {
    const arr = await raw('[]');
    expectErrorShape(arr, 400, 'validation_error');
    expect(detailPaths(arr)).toEqual(['(body)']);
    const empty = await client(api).post(PATH).set('Content-Type', 'application/json');
    expectErrorShape(empty, 400, 'validation_error');
    expect(detailPaths(empty).sort()).toEqual(['demo_account_type', 'email']);
    const none = await client(api).post(PATH);
    expectErrorShape(none, 400, 'validation_error');
  });

  it('wrong types are named field by field', async () => {
    const res = await postSession(api, { demo_account_type: 1, email: ['a@b.co'], subscription_tier: { x: 1 } });
    expectErrorShape(res, 400, 'validation_error');
    expect(detailPaths(res).sort()).toEqual(['demo_account_type', 'email', 'subscription_tier']);
  });

  it.each(['starter', 'PROFESSIONAL', '../professional', 'professional/', '', ' professional'])(
    'unknown account type %j: 400',
    async (type) => {
      const res = await postSession(api, { demo_account_type: type, email: freshEmail() });
      expectErrorShape(res, 400, 'validation_error');
      expect(detailPaths(res)).toEqual(['demo_account_type']);
      expect(JSON.stringify(res.body)).toContain('professional');
    },
  );

  it.each([
    'nope',
    'a@',
    '@example.com',
    'a b@example.com',
    'a@b',
    `${'x'.repeat(250)}@example.com`,
    'a@example.com\n',
    '',
  ])('bad email %j: 400', async (email) => {
    const res = await postSession(api, { demo_account_type: 'professional', email });
    expectErrorShape(res, 400, 'validation_error');
    expect(detailPaths(res)).toEqual(['email']);
  });

  it('missing fields say they are required', async () => {
    const res = await postSession(api, { subscription_tier: 'pro' });
    expectErrorShape(res, 400, 'validation_error');
    const details = (res.body as { error: { details: { path: string; message: string }[] } }).error.details;
    expect(details).toEqual(
      expect.arrayContaining([
        { path: 'demo_account_type', message: 'is required' },
        { path: 'email', message: 'is required' },
      ]),
    );
  });

  it('a bad subscription tier is a 400 naming it; none at all, or null, is fine', async () => {
    for (const tier of ['<script>', 'pro', 'Starter', 'gold', 7]) {
      const res = await postSession(api, {
        demo_account_type: 'professional',
        email: freshEmail(),
        subscription_tier: tier,
      });
      expectErrorShape(res, 400, 'validation_error');
      expect(detailPaths(res)).toEqual(['subscription_tier']);
      expect(res.text).toMatch(/must be one of: starter, professional, enterprise/);
    }
    expectErrorShape(
      await postSession(api, {
        demo_account_type: 'professional',
        email: freshEmail(),
        subscription_tier: 'x'.repeat(65),
      }),
      400,
    );
    expect(
      (await postSession(api, { demo_account_type: 'professional', email: freshEmail(), subscription_tier: null }))
        .status,
    ).toBe(202);
    expect((await postSession(api, { demo_account_type: 'professional', email: freshEmail() })).status).toBe(202);
  });

  it('ignores unknown fields, and a "__proto__" key pollutes nothing', async () => {
    // Written as text: in an object literal `__proto__` sets the prototype and JSON.stringify drops it.
    const res = await raw(
      `{"demo_account_type":"professional","email":"${freshEmail()}","extra":{"deep":[1,2]},"__proto__":{"admin":true}}`,
    );
    expect(res.status, res.text).toBe(202);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('a body over 16 kB: 413 payload_too_large (also when it is huge)', async () => {
    const big = JSON.stringify({ demo_account_type: 'professional', email: freshEmail(), pad: 'x'.repeat(17 * 1024) });
    expectErrorShape(await raw(big), 413, 'payload_too_large');
    const huge = JSON.stringify({ pad: 'y'.repeat(4 * 1024 * 1024) });
    expectErrorShape(await raw(huge), 413, 'payload_too_large');
  });

  it('a body that is not JSON: 415; a charset other than UTF-8: 415', async () => {
    expectErrorShape(
      await raw('demo_account_type=professional', 'application/x-www-form-urlencoded'),
      415,
      'unsupported_media_type',
    );
    expectErrorShape(await raw('{"demo_account_type":"professional"}', 'text/plain'), 415, 'unsupported_media_type');
    expectErrorShape(await raw('{}', 'application/json; charset=latin1'), 415, 'unsupported_charset');
  });

  it('odd encodings and shapes: 4xx, never 5xx', async () => {
    const withEncoding = (encoding: string, body: Buffer | string) =>
      client(api).post(PATH).set('Content-Type', 'application/json').set('Content-Encoding', encoding).send(body);
    expectErrorShape(await withEncoding('gzip', Buffer.from('definitely not gzip')), 400);
    expectErrorShape(await withEncoding('deflate', Buffer.from('nor deflate')), 400);
    expectErrorShape(await withEncoding('x-unknown', '{}'), 415, 'unsupported_encoding');
    // Deep nesting within 16 kB: rejected by the parser or by validation, either way a 400.
    expectErrorShape(await raw('['.repeat(7000) + ']'.repeat(7000)), 400);
    expectErrorShape(
      await raw(`{"demo_account_type": ${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}, "email": "a@b.co"}`),
      400,
    );
    expectErrorShape(
      await raw('{"demo_account_type": "professional", "email": "\\u0000@example.com"}'),
      400,
      'validation_error',
    );
  });

  it('sends security headers (helmet) and no X-Powered-By', async () => {
    const res = await client(api).get('/healthz');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBeDefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('property: any JSON value or text as the POST body answers 202 or 4xx in the error shape', async () => {
    const field = <T>(good: fc.Arbitrary<T>) => fc.oneof(good, fc.jsonValue());
    const body = fc.oneof(
      fc
        .record(
          {
            demo_account_type: field(fc.constantFrom('professional', 'enterprise', 'Professional', 'basic')),
            email: field(fc.oneof(fc.emailAddress(), fc.string())),
            subscription_tier: field(fc.oneof(fc.string(), fc.constantFrom('professional', 'enterprise', null))),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ unit: 'binary', maxLength: 200 }),
    );
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const res = await raw(text);
        if (res.status === 202) return;
        expect(res.status, text).toBeGreaterThanOrEqual(400);
        expect(res.status, text).toBeLessThan(500);
        expectErrorShape(res);
      }),
      { numRuns: 100 },
    );
  });

  it('property: any string as a session id answers 400 or 404 in the error shape', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }),
        fc.constantFrom('get', 'delete'),
        async (id, method) => {
          const res = await client(api)[method as 'get' | 'delete'](`${PATH}/${encodeURIComponent(id)}`);
          expect([400, 404], `${method} ${id}`).toContain(res.status);
          expectErrorShape(res);
        },
      ),
      { numRuns: 100 },
    );
  });

  describe('OpenAPI document', () => {
    let doc: {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    };
    let ajv: Ajv2020;

    beforeAll(async () => {
      const res = await client(api).get('/api/v1/openapi.json');
      expect(res.status).toBe(200);
      doc = res.body as typeof doc;
      ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
      ajv.addSchema({ $id: 'openapi', components: doc.components }, 'openapi');
    });
    const check = (schema: string, value: unknown) => {
      const validate = ajv.getSchema(`openapi#/components/schemas/${schema}`);
      expect(validate, schema).toBeDefined();
      const ok = validate!(value);
      expect(ok, JSON.stringify(validate!.errors)).toBe(true);
    };

    it('describes every route, with the account types on offer', () => {
      expect(doc.openapi).toBe('3.1.0');
      expect(Object.keys(doc.paths).sort()).toEqual(
        [
          '/api/v1/demo-sessions',
          '/api/v1/demo-sessions/{id}',
          '/api/v1/demo-sessions/{id}/events',
          '/api/v1/demo-sessions/introspect',
          '/.well-known/jwks.json',
          '/healthz',
          '/metrics',
          '/readyz',
        ].sort(),
      );
      expect(Object.keys(doc.paths['/api/v1/demo-sessions/{id}']!).sort()).toEqual(['delete', 'get', 'patch']);
      expect(JSON.stringify(doc.components.schemas.CreateSessionRequest)).toContain(
        '"enum":["enterprise","professional"]',
      );
    });

    it('matches what the API answers: 202, the session view, an error', async () => {
      const created = await postSession(api, { demo_account_type: 'enterprise', email: freshEmail() });
      check('SessionCreated', created.body);
      const view = await client(api).get(`${PATH}/${(created.body as { session_id: string }).session_id}`);
      check('SessionView', view.body);
      check('Error', (await postSession(api, {})).body);
      check('CreateSessionRequest', { demo_account_type: 'professional', email: 'a@b.co' });
      expect(
        ajv.getSchema('openapi#/components/schemas/CreateSessionRequest')!({
          demo_account_type: 'starter',
          email: 'a@b.co',
        }),
      ).toBe(false);
    });
  });
});
