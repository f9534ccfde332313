import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type pg from 'pg';
import type { Config } from '../config/env.ts';
import { algOf, parsePrivateKey, parsePublicKeys, type SigningAlg } from '../config/signing-keys.ts';
import { keepSigningKey } from '../db/sql/signing-keys.ts';

/**
 * The demo token's keys: the one it is signed with and every one it may be verified
 * with (that one and the previous ones, DEMO_TOKEN_PREVIOUS_PUBLIC_KEYS), and the JWKS
 * that publishes them. The signing key is DEMO_TOKEN_PRIVATE_KEY; without it
 * (development), a key generated once and kept in bakery_demo_session, the same for
 * every replica. A key's `kid` is its JWK's own, else its RFC 7638 thumbprint, so
 * replicas given the same key name it alike.
 */
export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly key: KeyObject;
  /** Where it comes from, for the log: `DEMO_TOKEN_PRIVATE_KEY` or `generated`. */
  readonly source: 'DEMO_TOKEN_PRIVATE_KEY' | 'generated';
}

/** A public key as the JWKS publishes it. */
export type PublicJwk = JWK & { kid: string; alg: SigningAlg; use: 'sig' };

export interface VerifyKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly key: KeyObject;
  readonly jwk: PublicJwk;
}

export interface KeySet {
  readonly signing: SigningKey;
  /** By kid: the signing key's public half first, then the previous keys. */
  readonly verify: ReadonlyMap<string, VerifyKey>;
  readonly jwks: { readonly keys: readonly PublicJwk[] };
}

/** The slot of the generated key in signing_keys. */
export const GENERATED_KEY = 'generated';

async function verifyKey(pub: KeyObject, alg: SigningAlg, kid?: string): Promise<VerifyKey> {
  const raw = pub.export({ format: 'jwk' }) as JWK;
  const id = kid ?? (await calculateJwkThumbprint(raw, 'sha256'));
  return { kid: id, alg, key: pub, jwk: { ...raw, kid: id, alg, use: 'sig' } };
}

/** A new Ed25519 key as signing_keys keeps it. */
async function generatedKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicJwk = publicKey.export({ format: 'jwk' }) as JWK;
  return {
    name: GENERATED_KEY,
    kid: await calculateJwkThumbprint(publicJwk, 'sha256'),
    alg: 'EdDSA' as const,
    private_jwk: privateKey.export({ format: 'jwk' }) as Record<string, unknown>,
    public_jwk: publicJwk as Record<string, unknown>,
  };
}

/** Reads the configured keys, or keeps (and reads) the generated one in bakery_demo_session. */
export async function loadKeySet(cfg: Config, db: pg.Pool): Promise<KeySet> {
  let signing: SigningKey;
  if (cfg.DEMO_TOKEN_PRIVATE_KEY !== undefined) {
    const p = parsePrivateKey(cfg.DEMO_TOKEN_PRIVATE_KEY);
    const v = await verifyKey(createPublicKey(p.key), p.alg, p.kid);
    signing = { kid: v.kid, alg: p.alg, key: p.key, source: 'DEMO_TOKEN_PRIVATE_KEY' };
  } else {
    // Every replica offers a key; the first committed is the one all of them use.
    const stored = await keepSigningKey(db, await generatedKey());
    const key = createPrivateKey({ key: stored.private_jwk as never, format: 'jwk' });
    signing = { kid: stored.kid, alg: algOf(key), key, source: 'generated' };
  }
  const verify = new Map<string, VerifyKey>();
  const current = await verifyKey(createPublicKey(signing.key), signing.alg, signing.kid);
  verify.set(current.kid, current);
  for (const p of cfg.DEMO_TOKEN_PREVIOUS_PUBLIC_KEYS ? parsePublicKeys(cfg.DEMO_TOKEN_PREVIOUS_PUBLIC_KEYS) : []) {
    const v = await verifyKey(p.key, p.alg, p.kid);
    if (!verify.has(v.kid)) verify.set(v.kid, v);
  }
  return { signing, verify, jwks: { keys: [...verify.values()].map((v) => v.jwk) } };
}

/**
 * The key set, read once per process on first use; a failure (the database away) is
 * not kept, so the next call tries again.
 */
export class SigningKeys {
  private loading: Promise<KeySet> | undefined;

  constructor(
    private readonly cfg: Config,
    private readonly db: pg.Pool,
  ) {}

  get(): Promise<KeySet> {
    if (!this.loading) {
      const p = loadKeySet(this.cfg, this.db);
      this.loading = p;
      p.catch(() => {
        if (this.loading === p) this.loading = undefined;
      });
    }
    return this.loading;
  }
}
