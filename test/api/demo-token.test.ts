import { createPublicKey, generateKeyPairSync, randomUUID, verify as cryptoVerify, type JsonWebKey } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessSchema, JwksSchema, SessionCreatedSchema } from '../../src/api/schemas.ts';
import type { RunningApi } from '../../src/api/server.ts';
import { redisReady } from '../../src/redis/connection.ts';
import { createRuntime } from '../../src/runtime/runtime.ts';
import { loadKeySet } from '../../src/sessions/signing-keys.ts';
import type { SessionView } from '../../src/sessions/session-view.ts';
import { createHarness, eventually, type Harness } from '../support/harness.ts';
import { client, expectErrorShape, PATH, postSession, startTestApi, waitForStatus } from './helpers.ts';

/**
 * The demo token as the platform's front-end team meets it: the origin document's two
 * POST bodies answer with `access`; the token verifies against /.well-known/jwks.json
 * with node:crypto (not the project's jose) for the configured issuer and audience; its
 * sub is a user row of the session in bakery_auth, its tenant_id the main tenant, its
 * exp the session's expires_at. Introspection (RFC 7662), key generation shared by API
 * replicas, a configured key and a rotation.
 */
const ISSUER = 'demo-seed-test';
const AUDIENCE = 'bakery-platform-test';
const LOGIN_URL = 'https://app.example.com/login';

interface Jwk extends JsonWebKey {
  kid: string;
  alg: string;
  use: string;
}
interface Claims {
  iss: string;
  aud: string | string[];
  sub: string;
  sid: string;
  tenant_id: string;
  tenant_ids: string[];
  role: string;
  email: string;
  iat: number;
  exp: number;
  jti: string;
}
type AccessBody = {
  token: string;
  token_type: string;
  expires_at: string;
  user: { id: string; email: string; role: string };
  login_url: string | null;
};

const b64json = (part: string) =>
  JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

/**
 * A JWS check with node:crypto alone, as a verifier that is not this project's would
 * do it: the header's kid picks the JWK, the signature is checked over `header.payload`
 * (Ed25519, or P-256 with SHA-256 in IEEE P1363 form), then iss, aud and exp.
 */
function verifyWithNodeCrypto(token: string, jwks: { keys: Jwk[] }, iss: string, aud: string): Claims {
  const parts = token.split('.');
  expect(parts).toHaveLength(3);
  const [h, p, s] = parts as [string, string, string];
  const header = b64json(h);
  expect(header.typ).toBe('JWT');
  expect(typeof header.kid).toBe('string');
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error(`kid ${String(header.kid)} is not in the JWKS`);
  expect(header.alg).toBe(jwk.alg);
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const data = Buffer.from(`${h}.${p}`);
  const sig = Buffer.from(s, 'base64url');
  const ok =
    header.alg === 'EdDSA'
      ? cryptoVerify(null, data, key, sig)
      : header.alg === 'ES256'
        ? cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig)
        : false;
  if (!ok) throw new Error('bad signature');
  const claims = b64json(p) as unknown as Claims;
  if (claims.iss !== iss) throw new Error(`iss ${claims.iss}`);
  if (!(Array.isArray(claims.aud) ? claims.aud.includes(aud) : claims.aud === aud)) throw new Error('aud');
  if (claims.exp * 1000 <= Date.now()) throw new Error('expired');
  return claims;
}

describe('HTTP API: the demo token', () => {
  let h: Harness;
  let api: RunningApi;
  const apis: RunningApi[] = [];
  const start = async (...args: Parameters<typeof startTestApi> extends [unknown, ...infer R] ? R : never) => {
    const a = await startTestApi(h, ...args);
    apis.push(a);
    return a;
  };
  const jwksOf = async (a: RunningApi) => {
    const res = await client(a).get('/.well-known/jwks.json');
    expect(res.status, res.text).toBe(200);
    JwksSchema.parse(res.body);
    return res.body as { keys: Jwk[] };
  };
  const introspect = async (a: RunningApi, token: unknown, form = false) => {
    const req = client(a).post(`${PATH}/introspect`);
    const res = form
      ? await req.type('form').send({ token: String(token) })
      : await req.set('Content-Type', 'application/json').send(JSON.stringify({ token }));
    expect(res.status, res.text).toBe(200);
    return res.body as { active: boolean } & Partial<Claims>;
  };

  beforeAll(async () => {
    h = await createHarness({ DEMO_TOKEN_ISSUER: ISSUER, DEMO_TOKEN_AUDIENCE: AUDIENCE });
    await h.startWorkers();
    api = await start({ RATE_LIMIT_PER_MINUTE: 0, DEMO_LOGIN_URL: LOGIN_URL });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(apis.map((a) => a.close()));
    await h?.close();
  });

  describe('the origin document’s two bodies', () => {
    const bodies = [
      { demo_account_type: 'professional', email: 'test@example.com', subscription_tier: 'professional' },
      { demo_account_type: 'enterprise', email: 'test@example.com', subscription_tier: 'enterprise' },
    ];
    const created: Record<string, { body: Record<string, unknown>; ready: SessionView; access: AccessBody }> = {};

    beforeAll(async () => {
      for (const body of bodies) {
        const res = await postSession(api, body);
        expect(res.status, res.text).toBe(202);
        SessionCreatedSchema.parse(res.body);
        expect(res.headers['cache-control']).toBe('no-store');
        const b = res.body as Record<string, unknown>;
        created[body.demo_account_type] = {
          body: b,
          access: b.access as AccessBody,
          ready: await waitForStatus(api, b.session_id as string, ['ready'], 90_000),
        };
      }
    }, 200_000);

    for (const profile of ['professional', 'enterprise']) {
      it(`${profile}: the token verifies with node:crypto against the JWKS, names a user row of the session, exp = expires_at`, async () => {
        const { body, access, ready } = created[profile]!;
        AccessSchema.parse(access);
        expect(access.token_type).toBe('Bearer');
        expect(access.login_url).toBe(`${LOGIN_URL}#token=${access.token}`);
        expect(access.expires_at).toBe(body.expires_at);
        const claims = verifyWithNodeCrypto(access.token, await jwksOf(api), ISSUER, AUDIENCE);
        expect(Object.keys(claims).sort()).toEqual(
          ['aud', 'email', 'exp', 'iat', 'iss', 'jti', 'role', 'sid', 'sub', 'tenant_id', 'tenant_ids'].sort(),
        );
        expect(claims.sid).toBe(body.session_id);
        expect(claims.tenant_id).toBe(body.tenant_id);
        expect(claims.tenant_ids).toEqual(body.tenant_ids);
        expect(claims.exp).toBe(Date.parse(body.expires_at as string) / 1000);
        expect(claims.exp).toBe(Date.parse(ready.expires_at) / 1000);
        expect(claims.iat).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
        expect(access.user).toEqual({ id: claims.sub, email: claims.email, role: claims.role });
        // sub: a user row of the session in bakery_auth, of its main tenant, with that email and role
        const { rows } = await h.rt.dbs
          .pool('auth')
          .query<{ id: string; tenant_id: string; email: string; role: string }>(
            'SELECT id, tenant_id, email, role FROM users WHERE id = $1',
            [claims.sub],
          );
        expect(rows).toHaveLength(1);
        expect(rows[0]!.tenant_id).toBe(body.tenant_id);
        expect(rows[0]!.email).toBe(claims.email);
        expect(rows[0]!.role).toBe(claims.role);
        expect(claims.email).toMatch(new RegExp(`@${h.cfg.DEMO_EMAIL_DOMAIN.replace(/\./g, '\\.')}$`));
        expect(claims.email).not.toContain('test@example.com');
      });
    }

    it('the two sessions have different users, tokens and jtis', () => {
      const [a, b] = [created.professional!.access, created.enterprise!.access];
      expect(a.user.id).not.toBe(b.user.id);
      expect(a.user.email).not.toBe(b.user.email);
      expect(b64json(a.token.split('.')[1]!).jti).not.toBe(b64json(b.token.split('.')[1]!).jti);
    });

    it('GET never shows the token', async () => {
      for (const { body, access } of Object.values(created)) {
        const res = await client(api).get(`${PATH}/${String(body.session_id)}`);
        expect(res.status).toBe(200);
        expect(res.body).not.toHaveProperty('access');
        expect(res.text).not.toContain(access.token);
        expect(res.text).not.toContain(access.token.split('.')[2]);
      }
    });

    it('introspection: active with the claims while ready (JSON and form), inactive for tampered and garbage tokens', async () => {
      const { access } = created.professional!;
      const claims = b64json(access.token.split('.')[1]!);
      for (const form of [false, true]) {
        const r = await introspect(api, access.token, form);
        expect(r).toEqual({ active: true, ...claims });
      }
      const [hd, pl, sg] = access.token.split('.') as [string, string, string];
      const forgedPayload = Buffer.from(
        JSON.stringify({ ...claims, sid: created.enterprise!.body.session_id, exp: claims.exp }),
      ).toString('base64url');
      const flipped = sg.slice(0, 10) + (sg[10] === 'A' ? 'B' : 'A') + sg.slice(11);
      const tampered = [
        `${hd}.${forgedPayload}.${sg}`, // claims changed, signature kept
        `${hd}.${pl}.${flipped}`, // signature changed
        `${hd}.${pl}.`, // no signature
        `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${pl}.`,
      ];
      for (const t of tampered) expect(await introspect(api, t)).toEqual({ active: false });
      for (const garbage of ['', 'abc', 'a.b.c', '...', 'x'.repeat(9000), '{"alg":"EdDSA"}', 'ey.ey.ey'])
        expect(await introspect(api, garbage)).toEqual({ active: false });
      for (const form of [false, true]) expect(await introspect(api, 'not-a-token', form)).toEqual({ active: false });
    });

    it('a replay (same Idempotency-Key) carries a token too: same claims but iat, a new jti', async () => {
      const key = randomUUID();
      const body = { demo_account_type: 'professional', email: 'replay@example.com' };
      const first = await postSession(api, body, { 'Idempotency-Key': key });
      const again = await postSession(api, body, { 'Idempotency-Key': key });
      expect(again.status, again.text).toBe(202);
      expect(again.headers['idempotent-replayed']).toBe('true');
      const [a, b] = [first.body.access as AccessBody, again.body.access as AccessBody];
      const jwks = await jwksOf(api);
      const [ca, cb] = [
        verifyWithNodeCrypto(a.token, jwks, ISSUER, AUDIENCE),
        verifyWithNodeCrypto(b.token, jwks, ISSUER, AUDIENCE),
      ];
      expect(cb.jti).not.toBe(ca.jti);
      const { jti: _a, iat: _ia, ...restA } = ca;
      const { jti: _b, iat: _ib, ...restB } = cb;
      expect(restB).toEqual(restA);
      expect(b.user).toEqual(a.user);
      await waitForStatus(api, first.body.session_id as string, ['ready'], 90_000);
    }, 120_000);

    it('tokens of another issuer or audience (the same key) and of a foreign key with our kid are inactive', async () => {
      const other = await start({ RATE_LIMIT_PER_MINUTE: 0, DEMO_TOKEN_AUDIENCE: 'someone-else' });
      const otherIss = await start({ RATE_LIMIT_PER_MINUTE: 0, DEMO_TOKEN_ISSUER: 'someone-else' });
      expect(await jwksOf(other)).toEqual(await jwksOf(api)); // one generated key for every replica
      const { access } = created.professional!;
      // the same session and key, another audience / issuer: each API accepts only its own
      expect((await introspect(other, access.token)).active).toBe(false);
      expect((await introspect(otherIss, access.token)).active).toBe(false);
      const res = await client(other)
        .patch(`${PATH}/${String(created.professional!.body.session_id)}`)
        .set('Authorization', `Bearer ${access.token}`)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ extend_seconds: 60 }));
      expectErrorShape(res, 401, 'invalid_token');
      // a foreign Ed25519 key that claims our kid
      const claims = b64json(access.token.split('.')[1]!);
      const kid = (await jwksOf(api)).keys[0]!.kid;
      const foreign = generateKeyPairSync('ed25519').privateKey;
      const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' }).sign(foreign);
      expect(await introspect(api, forged)).toEqual({ active: false });
    });

    it('introspection: inactive once the session is deleted', async () => {
      const { body, access } = created.enterprise!;
      expect((await introspect(api, access.token)).active).toBe(true);
      const del = await client(api).delete(`${PATH}/${String(body.session_id)}`);
      expect(del.status, del.text).toBe(202);
      expect(await introspect(api, access.token)).toEqual({ active: false });
      await waitForStatus(api, body.session_id as string, ['destroyed'], 60_000);
      expect(await introspect(api, access.token)).toEqual({ active: false });
    }, 90_000);
  });

  it('introspection: inactive once the session has expired (a 5 s TTL)', async () => {
    // A second runtime on the same world whose sessions live 5 s; the harness' workers expire them.
    const rt = createRuntime({ ...h.cfg, DEMO_SESSION_TTL_SECONDS: 5 }, h.rt.log);
    await redisReady(rt.redis);
    const short = await startTestApi(h, { RATE_LIMIT_PER_MINUTE: 0, DEMO_SESSION_TTL_SECONDS: 5 }, { runtime: rt });
    try {
      const res = await postSession(short, { demo_account_type: 'professional', email: 'short@example.com' });
      expect(res.status, res.text).toBe(202);
      const access = res.body.access as AccessBody;
      expect(Date.parse(access.expires_at) - Date.now()).toBeLessThanOrEqual(5_000);
      const end = await waitForStatus(short, res.body.session_id as string, ['expired'], 60_000);
      expect(end.status).toBe('expired');
      expect(await introspect(api, access.token)).toEqual({ active: false });
    } finally {
      await short.close();
      await rt.close();
    }
  }, 90_000);

  it('a profile that names no main user (manifest.owner) still loads, with access null', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'demo-token-'));
    await cp(path.resolve(h.cfg.SEED_DATA_DIR, 'professional'), path.join(dir, 'professional'), { recursive: true });
    const manifestPath = path.join(dir, 'professional', 'manifest.json');
    const { owner: _owner, ...manifest } = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, unknown>;
    await writeFile(manifestPath, JSON.stringify(manifest, null, 2));
    const rt = createRuntime({ ...h.cfg, SEED_DATA_DIR: dir }, h.rt.log);
    await redisReady(rt.redis);
    const noOwner = await startTestApi(h, { RATE_LIMIT_PER_MINUTE: 0, SEED_DATA_DIR: dir }, { runtime: rt });
    try {
      const res = await postSession(noOwner, { demo_account_type: 'professional', email: 'no-owner@example.com' });
      expect(res.status, res.text).toBe(202);
      SessionCreatedSchema.parse(res.body);
      expect(res.body.access).toBeNull();
      await waitForStatus(noOwner, res.body.session_id as string, ['ready'], 90_000);
    } finally {
      await noOwner.close();
      await rt.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('introspection: a request without a token field is a 400 in the error shape; another media type 415', async () => {
    const none = await client(api).post(`${PATH}/introspect`).set('Content-Type', 'application/json').send('{}');
    expectErrorShape(none, 400, 'validation_error');
    const num = await client(api)
      .post(`${PATH}/introspect`)
      .set('Content-Type', 'application/json')
      .send('{"token": 5}');
    expectErrorShape(num, 400, 'validation_error');
    const bad = await client(api).post(`${PATH}/introspect`).set('Content-Type', 'application/json').send('{"token":');
    expectErrorShape(bad, 400, 'invalid_json');
    const text = await client(api).post(`${PATH}/introspect`).set('Content-Type', 'text/plain').send('token=abc');
    expectErrorShape(text, 415, 'unsupported_media_type');
    const get = await client(api).get(`${PATH}/introspect`);
    expect(get.status).toBe(405);
  });

  it('two API instances starting at once on a fresh key table generate one key and publish the same JWKS', async () => {
    const db = h.rt.dbs.pool('demo_session');
    await db.query('DELETE FROM signing_keys');
    // Key loads side by side, as replicas starting together do: one key wins, all use it.
    const sets = await Promise.all(Array.from({ length: 6 }, () => loadKeySet(h.cfg, db)));
    expect(new Set(sets.map((s) => s.signing.kid)).size).toBe(1);
    expect((await db.query('SELECT kid FROM signing_keys')).rows).toEqual([{ kid: sets[0]!.signing.kid }]);
    await db.query('DELETE FROM signing_keys');
    const [a, b] = await Promise.all([start({ RATE_LIMIT_PER_MINUTE: 0 }), start({ RATE_LIMIT_PER_MINUTE: 0 })]);
    const [ja, jb] = await Promise.all([jwksOf(a), jwksOf(b)]);
    expect(ja).toEqual(jb);
    expect(ja.keys).toHaveLength(1);
    expect(ja.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(ja.keys[0]).not.toHaveProperty('d');
    const { rows } = await db.query<{ kid: string }>('SELECT kid FROM signing_keys');
    expect(rows).toEqual([{ kid: ja.keys[0]!.kid }]);
  });

  it('a configured ES256 key signs; after a rotation, the previous key is published and its tokens still introspect', async () => {
    const before = await start({ RATE_LIMIT_PER_MINUTE: 0 });
    const res = await postSession(before, { demo_account_type: 'professional', email: 'rotate@example.com' });
    expect(res.status, res.text).toBe(202);
    const oldToken = (res.body.access as AccessBody).token;
    await waitForStatus(before, res.body.session_id as string, ['ready'], 90_000);
    const oldJwks = await jwksOf(before);

    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const after = await start({
      RATE_LIMIT_PER_MINUTE: 0,
      DEMO_TOKEN_PRIVATE_KEY: pem,
      DEMO_TOKEN_PREVIOUS_PUBLIC_KEYS: JSON.stringify(oldJwks),
    });
    const jwks = await jwksOf(after);
    expect(jwks.keys).toHaveLength(2);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwks.keys[1]).toEqual(oldJwks.keys[0]);
    for (const k of jwks.keys) expect(k).not.toHaveProperty('d');
    // the old token, signed with the previous key, is still good
    expect((await introspect(after, oldToken)).active).toBe(true);
    // new sessions get ES256 tokens, verified with node:crypto from the JWKS
    const fresh = await postSession(after, { demo_account_type: 'professional', email: 'rotate2@example.com' });
    expect(fresh.status, fresh.text).toBe(202);
    const token = (fresh.body.access as AccessBody).token;
    expect(b64json(token.split('.')[0]!)).toMatchObject({ alg: 'ES256', kid: jwks.keys[0]!.kid });
    const claims = verifyWithNodeCrypto(token, jwks, ISSUER, AUDIENCE);
    expect(claims.sid).toBe(fresh.body.session_id);
    // the old API does not know the new key
    expect((await introspect(before, token)).active).toBe(false);
    await eventually(async () => ((await introspect(after, token)).active ? true : undefined), 90_000, 'ready');
  }, 200_000);
});
