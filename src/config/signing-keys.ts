import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

/**
 * The demo token's keys as the environment gives them (DEMO_TOKEN_PRIVATE_KEY,
 * DEMO_TOKEN_PREVIOUS_PUBLIC_KEYS): parsed here so that a bad key is a configuration
 * error at start, reported with the others, and so that the token code reads them the
 * same way. Only asymmetric keys the platform's verifiers know: Ed25519 (EdDSA) and
 * EC P-256 (ES256).
 */
export type SigningAlg = 'EdDSA' | 'ES256';

export interface ParsedKey {
  readonly key: KeyObject;
  readonly alg: SigningAlg;
  /** The JWK's own `kid`, when the key was given as a JWK that has one. */
  readonly kid?: string;
}

/** EdDSA for an Ed25519 key, ES256 for a P-256 one; anything else is refused. */
export function algOf(key: KeyObject): SigningAlg {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new Error(
    `is a ${key.asymmetricKeyType ?? 'symmetric'} key; use an Ed25519 (EdDSA) or EC P-256 (ES256) key, PEM or JWK`,
  );
}

/** PEM blocks in a text; `\n` written as two characters (a one-line env variable) counts as a newline. */
function pemBlocks(text: string): string[] {
  const t = text.replace(/\\n/g, '\n');
  return t.match(/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?-----END [A-Z0-9 ]+-----/g) ?? [];
}

function kidOf(jwk: Record<string, unknown>): string | undefined {
  return typeof jwk.kid === 'string' && jwk.kid.length > 0 ? jwk.kid : undefined;
}

/** DEMO_TOKEN_PRIVATE_KEY: one private key, a PEM (PKCS#8 or SEC1) or a JWK (JSON with `d`). */
export function parsePrivateKey(text: string): ParsedKey {
  const t = text.trim();
  if (t.startsWith('{')) {
    let jwk: Record<string, unknown>;
    try {
      jwk = JSON.parse(t) as Record<string, unknown>;
    } catch {
      throw new Error('is neither a PEM key nor valid JSON (a JWK)');
    }
    if (typeof jwk.d !== 'string') throw new Error('is a JWK without "d": a private key is needed');
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: jwk as never, format: 'jwk' });
    } catch (err) {
      throw new Error(`is not a usable JWK: ${(err as Error).message}`);
    }
    return { key, alg: algOf(key), kid: kidOf(jwk) };
  }
  const blocks = pemBlocks(t);
  if (blocks.length !== 1) throw new Error('must be one PEM private key (-----BEGIN PRIVATE KEY-----) or a JWK');
  let key: KeyObject;
  try {
    key = createPrivateKey(blocks[0] as string);
  } catch {
    throw new Error('is not a readable PEM private key');
  }
  return { key, alg: algOf(key) };
}

/**
 * DEMO_TOKEN_PREVIOUS_PUBLIC_KEYS: the keys tokens may still be signed with after a
 * rotation, published in the JWKS and accepted by introspection. One or more PEM
 * public keys one after the other, or JSON: a JWK, an array of JWKs, or a JWKS
 * (`{"keys": [...]}`). A private key is accepted too (only its public half is used).
 */
export function parsePublicKeys(text: string): ParsedKey[] {
  const t = text.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    let json: unknown;
    try {
      json = JSON.parse(t);
    } catch {
      throw new Error('is neither PEM keys nor valid JSON (a JWK, an array of JWKs or a JWKS)');
    }
    const list: unknown[] = Array.isArray(json)
      ? json
      : json !== null && typeof json === 'object' && Array.isArray((json as { keys?: unknown }).keys)
        ? (json as { keys: unknown[] }).keys
        : [json];
    if (list.length === 0) throw new Error('holds no key');
    return list.map((j, i) => {
      if (j === null || typeof j !== 'object') throw new Error(`key ${i + 1} is not a JWK object`);
      const { d: _private, ...pub } = j as Record<string, unknown>;
      let key: KeyObject;
      try {
        key = createPublicKey({ key: pub as never, format: 'jwk' });
      } catch (err) {
        throw new Error(`key ${i + 1} is not a usable JWK: ${(err as Error).message}`);
      }
      try {
        return { key, alg: algOf(key), kid: kidOf(pub) };
      } catch (err) {
        throw new Error(`key ${i + 1} ${(err as Error).message}`);
      }
    });
  }
  const blocks = pemBlocks(t);
  if (blocks.length === 0) throw new Error('must be PEM public keys (-----BEGIN PUBLIC KEY-----) or JSON JWKs');
  return blocks.map((pem, i) => {
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch {
      throw new Error(`key ${i + 1} is not a readable PEM key`);
    }
    try {
      return { key, alg: algOf(key) };
    } catch (err) {
      throw new Error(`key ${i + 1} ${(err as Error).message}`);
    }
  });
}

/** A zod refinement's check: undefined when `parse` accepts the text, else its message. */
export function keyProblem(parse: (text: string) => unknown, text: string): string | undefined {
  try {
    parse(text);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
