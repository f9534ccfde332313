import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/env.ts';
import { parsePrivateKey, parsePublicKeys } from '../../src/config/signing-keys.ts';

/** The demo-access variables: defaults, keys (PEM or JWK, Ed25519 or P-256 only), CORS origins, the login URL. */
const problemsOf = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.join('\n');
  }
  return '';
};

describe('demo access configuration', () => {
  const ed = generateKeyPairSync('ed25519');
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = (k: typeof ed.privateKey) => k.export({ type: 'pkcs8', format: 'pem' }) as string;
  const spki = (k: typeof ed.publicKey) => k.export({ type: 'spki', format: 'pem' }) as string;

  it('has the contract defaults', () => {
    const cfg = loadConfig({});
    expect(cfg.DEMO_TOKEN_ISSUER).toBe('demo-seed');
    expect(cfg.DEMO_TOKEN_AUDIENCE).toBe('bakery-platform');
    expect(cfg.DEMO_TOKEN_PRIVATE_KEY).toBeUndefined();
    expect(cfg.DEMO_LOGIN_URL).toBeUndefined();
    expect(cfg.DEMO_SESSION_MAX_TTL_SECONDS).toBe(28800);
    expect(cfg.CORS_ORIGINS).toEqual([]);
  });

  it('takes a private key as PEM (also with \\n written out) or JWK, and keeps a JWK kid', () => {
    expect(parsePrivateKey(pem(ed.privateKey)).alg).toBe('EdDSA');
    expect(parsePrivateKey(pem(ec.privateKey)).alg).toBe('ES256');
    expect(parsePrivateKey(pem(ed.privateKey).replace(/\n/g, '\\n')).alg).toBe('EdDSA');
    const jwk = { ...ec.privateKey.export({ format: 'jwk' }), kid: 'key-2026-01' };
    const parsed = parsePrivateKey(JSON.stringify(jwk));
    expect(parsed).toMatchObject({ alg: 'ES256', kid: 'key-2026-01' });
    expect(loadConfig({ DEMO_TOKEN_PRIVATE_KEY: JSON.stringify(jwk) }).DEMO_TOKEN_PRIVATE_KEY).toBeDefined();
  });

  it('takes previous public keys as PEM blocks, a JWK, an array or a JWKS', () => {
    expect(parsePublicKeys(spki(ed.publicKey) + spki(ec.publicKey)).map((k) => k.alg)).toEqual(['EdDSA', 'ES256']);
    const jwk = { ...ed.publicKey.export({ format: 'jwk' }), kid: 'old' };
    expect(parsePublicKeys(JSON.stringify(jwk))).toHaveLength(1);
    expect(parsePublicKeys(JSON.stringify([jwk, jwk]))).toHaveLength(2);
    expect(parsePublicKeys(JSON.stringify({ keys: [jwk] }))[0]!.kid).toBe('old');
  });

  it('refuses bad keys, other key types, and reports them with the other problems', () => {
    const problems = problemsOf({
      DEMO_TOKEN_PRIVATE_KEY: pem(rsa.privateKey),
      DEMO_TOKEN_PREVIOUS_PUBLIC_KEYS: 'not a key',
      DEMO_LOGIN_URL: 'https://app.example.com/login#x',
      CORS_ORIGINS: 'https://app.example.com,*',
      PORT: 'eighty',
    });
    for (const name of [
      'DEMO_TOKEN_PRIVATE_KEY',
      'DEMO_TOKEN_PREVIOUS_PUBLIC_KEYS',
      'DEMO_LOGIN_URL',
      'CORS_ORIGINS',
      'PORT',
    ])
      expect(problems).toContain(name);
    expect(problems).toMatch(/rsa key; use an Ed25519 \(EdDSA\) or EC P-256 \(ES256\) key/);
    expect(problemsOf({ DEMO_TOKEN_PRIVATE_KEY: spki(ed.publicKey) })).toContain('DEMO_TOKEN_PRIVATE_KEY');
    expect(problemsOf({ DEMO_TOKEN_PRIVATE_KEY: JSON.stringify(ed.publicKey.export({ format: 'jwk' })) })).toContain(
      'a private key is needed',
    );
  });

  it('reads CORS_ORIGINS as origins, lower case, no trailing slash; refuses paths and *', () => {
    expect(loadConfig({ CORS_ORIGINS: ' https://App.Example.com/ , http://localhost:5173' }).CORS_ORIGINS).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
    for (const bad of ['*', 'https://app.example.com/login', 'app.example.com', 'ftp://x.example', 'null'])
      expect(problemsOf({ CORS_ORIGINS: bad }), bad).toContain('CORS_ORIGINS');
  });

  it('wants DEMO_SESSION_TTL_SECONDS within DEMO_SESSION_MAX_TTL_SECONDS', () => {
    expect(problemsOf({ DEMO_SESSION_TTL_SECONDS: '7200', DEMO_SESSION_MAX_TTL_SECONDS: '3600' })).toMatch(
      /DEMO_SESSION_TTL_SECONDS \(7200\) must not exceed DEMO_SESSION_MAX_TTL_SECONDS \(3600\)/,
    );
  });
});
