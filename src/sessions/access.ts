import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, SignJWT, type JWTHeaderParameters } from 'jose';
import { z } from 'zod';
import type { Config } from '../config/env.ts';
import type { SessionRecord } from '../db/sql/sessions.ts';
import { UUID_RE } from '../shared/uuid.ts';
import { SigningKeys, type KeySet } from './signing-keys.ts';

/**
 * The demo token (contract, "Demo access"): a JWT for the session's main user, signed
 * with the service's asymmetric key (signing-keys.ts), that the platform's services
 * verify against /.well-known/jwks.json. Its `exp` is the session's expires_at, so a
 * token lives as long as its session (an extension issues a new one).
 */
export interface AccessUser {
  readonly id: string;
  readonly email: string;
  readonly role: string;
}

/** What POST (and PATCH) answer as `access`. */
export interface Access {
  readonly token: string;
  readonly token_type: 'Bearer';
  readonly expires_at: string;
  readonly user: AccessUser;
  readonly login_url: string | null;
}

const uuid = z.string().regex(UUID_RE);
/** The claims of a demo token, as verify() accepts them. */
export const DemoClaimsSchema = z.object({
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  sub: uuid,
  sid: uuid,
  tenant_id: uuid,
  tenant_ids: z.array(uuid).min(1),
  role: z.string(),
  email: z.string(),
  iat: z.number().int(),
  exp: z.number().int(),
  jti: z.string(),
});
export type DemoClaims = z.output<typeof DemoClaimsSchema>;

/** RFC 7662's answer: the claims while the session is ready and unexpired, else `active: false` alone. */
export type Introspection = { active: false } | ({ active: true } & DemoClaims);

/** The longest text taken for a token; anything longer is not one of ours. */
const MAX_TOKEN_LENGTH = 8192;

export type TokenRecord = Pick<SessionRecord, 'session_id' | 'tenant_id' | 'tenant_ids' | 'expires_at'>;

export class DemoAccess {
  readonly keys: SigningKeys;

  constructor(
    private readonly cfg: Config,
    keys: SigningKeys,
  ) {
    this.keys = keys;
  }

  /** Resolves once the keys are read (or generated): POST waits for it before it creates a session. */
  async ready(): Promise<KeySet> {
    return this.keys.get();
  }

  async jwks(): Promise<KeySet['jwks']> {
    return (await this.keys.get()).jwks;
  }

  /** A fresh token (new jti and iat) for the session's main user; `exp` is the session's expires_at. */
  async issue(s: TokenRecord, user: AccessUser): Promise<Access> {
    const { signing } = await this.keys.get();
    const exp = Math.floor(s.expires_at.getTime() / 1000);
    const token = await new SignJWT({
      sid: s.session_id,
      tenant_id: s.tenant_id,
      tenant_ids: s.tenant_ids,
      role: user.role,
      email: user.email,
    })
      .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: 'JWT' })
      .setIssuer(this.cfg.DEMO_TOKEN_ISSUER)
      .setAudience(this.cfg.DEMO_TOKEN_AUDIENCE)
      .setSubject(user.id)
      .setIssuedAt()
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(signing.key);
    return {
      token,
      token_type: 'Bearer',
      expires_at: s.expires_at.toISOString(),
      user: { id: user.id, email: user.email, role: user.role },
      login_url: this.cfg.DEMO_LOGIN_URL === undefined ? null : `${this.cfg.DEMO_LOGIN_URL}#token=${token}`,
    };
  }

  /**
   * The claims of a token this service signed with one of its keys (the current or a
   * previous one, by kid) for the configured issuer and audience, not expired; else
   * undefined. Never throws for what a client sends.
   */
  async verify(token: unknown): Promise<DemoClaims | undefined> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return undefined;
    let header: JWTHeaderParameters;
    try {
      header = decodeProtectedHeader(token) as JWTHeaderParameters;
    } catch {
      return undefined;
    }
    const { verify } = await this.keys.get();
    const k = typeof header.kid === 'string' ? verify.get(header.kid) : undefined;
    if (!k || header.alg !== k.alg) return undefined;
    try {
      const { payload } = await jwtVerify(token, k.key, {
        issuer: this.cfg.DEMO_TOKEN_ISSUER,
        audience: this.cfg.DEMO_TOKEN_AUDIENCE,
        algorithms: [k.alg],
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
      });
      const claims = DemoClaimsSchema.safeParse(payload);
      return claims.success ? claims.data : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * RFC 7662 introspection: active while the token verifies and its session (looked up
   * by `sid`) is ready, unexpired, and still the one the token names.
   */
  async introspect(
    token: unknown,
    lookup: (sessionId: string) => Promise<Pick<SessionRecord, 'status' | 'expires_at' | 'tenant_id'> | undefined>,
  ): Promise<Introspection> {
    const claims = await this.verify(token);
    if (!claims) return { active: false };
    const s = await lookup(claims.sid);
    if (!s || s.status !== 'ready' || s.expires_at.getTime() <= Date.now() || s.tenant_id !== claims.tenant_id)
      return { active: false };
    return { active: true, ...claims };
  }
}

/** The service's DemoAccess over its keys (a configured key, else the one kept in bakery_demo_session). */
export function demoAccess(cfg: Config, db: ConstructorParameters<typeof SigningKeys>[1]): DemoAccess {
  return new DemoAccess(cfg, new SigningKeys(cfg, db));
}
