import { z } from 'zod';
import { DATABASE_KEYS, type DatabaseKey } from '../catalog/services.ts';
import { EMAIL_DOMAIN_MAX, EMAIL_DOMAIN_RE } from '../shared/identity-text.ts';
import { keyProblem, parsePrivateKey, parsePublicKeys } from './signing-keys.ts';

/**
 * The whole configuration, parsed once from the environment. Every bad
 * variable is reported together in one ConfigError.
 */
const intFrom = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
    );

const pgUrl = url(['postgres:', 'postgresql:']);

/** A key variable: the text as given (parsed by the token code), checked here so a bad key stops the start. */
const keyText = (parse: (text: string) => unknown) =>
  z.string().superRefine((v, ctx) => {
    const problem = keyProblem(parse, v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** CORS_ORIGINS: comma-separated origins (`https://app.example.com`), each scheme://host[:port], never `*`. */
const origins = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== ''),
  )
  .superRefine((list, ctx) => {
    for (const o of list) {
      let ok = false;
      try {
        const u = new URL(o);
        ok = (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === o.replace(/\/$/, '').toLowerCase();
      } catch {
        ok = false;
      }
      if (!ok)
        ctx.addIssue({
          code: 'custom',
          message: `${JSON.stringify(o)} is not an origin: write scheme://host[:port], no path, no *`,
        });
    }
  })
  .transform((list) => list.map((o) => o.replace(/\/$/, '').toLowerCase()));

export const ENV_SCHEMA = z.object({
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  DATABASE_URL: pgUrl.default('postgres://postgres@127.0.0.1:5432/postgres'),
  ...(Object.fromEntries(DATABASE_KEYS.map((k) => [`${k.toUpperCase()}_DATABASE_URL`, pgUrl.optional()])) as Record<
    `${Uppercase<DatabaseKey>}_DATABASE_URL`,
    z.ZodOptional<typeof pgUrl>
  >),
  /** Databases are named `<prefix><service>`; tests use their own prefix. */
  DB_NAME_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,40}$/, 'must be lower-case letters, digits and _ (at most 41)')
    .default('bakery_'),
  PORT: intFrom(0, 65535).default(8000),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  /**
   * The HTTP server's bounds (src/api/server.ts). A request (headers and body) must arrive
   * within HTTP_REQUEST_TIMEOUT_MS, its headers within HTTP_HEADERS_TIMEOUT_MS (else 408);
   * neither cuts a response, so event streams live on. An idle keep-alive connection
   * closes after HTTP_KEEP_ALIVE_TIMEOUT_MS: longer than the idle timeout of the proxy in
   * front (AWS ALB and ingress-nginx: 60 s), or it may reuse a connection just closed.
   * Connections beyond HTTP_MAX_CONNECTIONS are closed at once.
   */
  HTTP_REQUEST_TIMEOUT_MS: intFrom(1_000, 600_000).default(30_000),
  HTTP_HEADERS_TIMEOUT_MS: intFrom(1_000, 600_000).default(10_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: intFrom(1_000, 600_000).default(65_000),
  HTTP_MAX_CONNECTIONS: intFrom(1, 1_000_000).default(2_000),
  WORKER_HEALTH_PORT: intFrom(0, 65535).default(8001),
  DEMO_SESSION_TTL_SECONDS: intFrom(5, 7 * 24 * 3600).default(1800),
  /** The domain of every seeded email (src/load/identities.ts): `demo.invalid` can never receive mail. */
  DEMO_EMAIL_DOMAIN: z
    .string()
    .trim()
    .toLowerCase()
    .regex(EMAIL_DOMAIN_RE, `must be a host name (two labels or more, at most ${EMAIL_DOMAIN_MAX} characters)`)
    .default('demo.invalid'),
  /** The longest a session may live from its creation, extensions (PATCH) included. */
  DEMO_SESSION_MAX_TTL_SECONDS: intFrom(5, 7 * 24 * 3600).default(28800),
  /** Demo access tokens (src/sessions/access.ts): the JWT's `iss` and `aud`. */
  DEMO_TOKEN_ISSUER: z.string().trim().min(1).max(256).default('demo-seed'),
  DEMO_TOKEN_AUDIENCE: z.string().trim().min(1).max(256).default('bakery-platform'),
  /**
   * The signing key: an Ed25519 (EdDSA) or EC P-256 (ES256) private key, PEM or JWK. Unset,
   * a key is generated once and kept in bakery_demo_session (development).
   */
  DEMO_TOKEN_PRIVATE_KEY: keyText(parsePrivateKey).optional(),
  /** Public keys of earlier signing keys, still published and accepted after a rotation (PEM blocks or JWK/JWKS JSON). */
  DEMO_TOKEN_PREVIOUS_PUBLIC_KEYS: keyText(parsePublicKeys).optional(),
  /** Where a prospect logs in: the token goes in the fragment (`#token=…`). */
  DEMO_LOGIN_URL: url(['https:', 'http:'])
    .refine((v) => !v.includes('#'), 'must not have a fragment (#…): the token is appended as #token=…')
    .optional(),
  /** Origins a browser may call the API from (comma-separated); none by default. */
  CORS_ORIGINS: origins.default([]),
  ADMIN_USER: z.string().min(1).optional(),
  ADMIN_PASSWORD: z.string().min(1).optional(),
  /**
   * Bull Board shows queues and jobs but changes nothing (`true`); with `false` it may
   * also retry failed jobs and promote delayed ones, and nothing else (src/api/bull-board.ts).
   */
  BOARD_READ_ONLY: z
    .string()
    .trim()
    .pipe(z.enum(['true', 'false'], { error: 'must be true or false' }))
    .transform((v) => v === 'true')
    .default(true),
  /** Wrong board passwords one client (req.ip, see TRUST_PROXY) may send per window, counted in Redis for every replica; then 429. */
  ADMIN_LOGIN_MAX_FAILURES: intFrom(1, 1_000_000).default(10),
  ADMIN_LOGIN_WINDOW_SECONDS: intFrom(1, 7 * 24 * 3600).default(900),
  RATE_LIMIT_PER_MINUTE: intFrom(0, 1_000_000).default(30),
  MAX_SESSIONS_PER_EMAIL: intFrom(0, 10_000).default(5),
  TRUST_PROXY: z.string().trim().default('false'),
  /** Event streams (GET …/events) open at once on one API process, in all and per client (req.ip, as the POST rate limit). */
  SSE_MAX_STREAMS: intFrom(1, 1_000_000).default(1_000),
  SSE_MAX_PER_CLIENT: intFrom(1, 1_000_000).default(20),
  /** BullMQ key prefix; the braces make one Redis Cluster hash tag for every queue of a flow. */
  QUEUE_PREFIX: z
    .string()
    .regex(/^\{[A-Za-z0-9_-]+\}$/, 'must be a Redis hash tag like {demo}')
    .default('{demo}'),
  WORKER_CONCURRENCY: intFrom(1, 64).default(3),
  JOB_ATTEMPTS: intFrom(1, 20).default(6),
  JOB_BACKOFF_MS: intFrom(0, 600_000).default(200),
  /** A job whose worker stops renewing its lock for this long is retried elsewhere. */
  LOCK_DURATION_MS: intFrom(1000, 600_000).default(10_000),
  STALLED_INTERVAL_MS: intFrom(500, 600_000).default(5_000),
  /** A job whose worker died this many times fails for good (loads and cleanups are idempotent, so be generous). */
  MAX_STALLED_COUNT: intFrom(1, 100).default(5),
  /** How often the reconciler looks for sessions whose jobs were lost (workers/reconciler.ts). */
  RECONCILE_INTERVAL_MS: intFrom(200, 3_600_000).default(5_000),
  /** A session still loading after this long fails and is cleaned up. */
  SESSION_LOAD_TIMEOUT_SECONDS: intFrom(5, 86_400).default(120),
  WORKER_CLOSE_TIMEOUT_MS: intFrom(0, 600_000).default(10_000),
  PG_POOL_SIZE: intFrom(1, 100).default(5),
  /**
   * `skip`: a load transaction runs with session_replication_role = replica, so PostgreSQL
   * does not check each row's foreign keys (the validated profile and the id bijection
   * make them hold; tests check every reference), where the role may set it (superuser,
   * or GRANT SET ON PARAMETER on PostgreSQL 15+); else, and with `run`, it checks them.
   */
  LOAD_FK_CHECKS: z.enum(['skip', 'run']).default('skip'),
  SEED_DATA_DIR: z.string().trim().min(1).default('./seed-data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.string().optional(),
});

export type Config = z.output<typeof ENV_SCHEMA>;
export const CONFIG_VARIABLES: readonly string[] = Object.keys(ENV_SCHEMA.shape);

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, string> = {};
  for (const key of CONFIG_VARIABLES) {
    const value = env[key];
    // An empty variable counts as unset, as in most twelve-factor services.
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = ENV_SCHEMA.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`));
  }
  const cfg = parsed.data;
  const problems: string[] = [];
  if ((cfg.ADMIN_USER === undefined) !== (cfg.ADMIN_PASSWORD === undefined)) {
    problems.push('ADMIN_USER and ADMIN_PASSWORD: set both or neither');
  }
  if (cfg.HTTP_HEADERS_TIMEOUT_MS > cfg.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push(
      `HTTP_HEADERS_TIMEOUT_MS (${cfg.HTTP_HEADERS_TIMEOUT_MS}) must not exceed HTTP_REQUEST_TIMEOUT_MS (${cfg.HTTP_REQUEST_TIMEOUT_MS})`,
    );
  }
  if (cfg.DEMO_SESSION_TTL_SECONDS > cfg.DEMO_SESSION_MAX_TTL_SECONDS) {
    problems.push(
      `DEMO_SESSION_TTL_SECONDS (${cfg.DEMO_SESSION_TTL_SECONDS}) must not exceed DEMO_SESSION_MAX_TTL_SECONDS (${cfg.DEMO_SESSION_MAX_TTL_SECONDS})`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return cfg;
}

/** Connection string of one database: `<KEY>_DATABASE_URL`, else `<prefix><key>` on DATABASE_URL's server. */
export function databaseUrl(cfg: Config, key: DatabaseKey): string {
  const own = cfg[`${key.toUpperCase()}_DATABASE_URL` as `${Uppercase<DatabaseKey>}_DATABASE_URL`];
  if (own) return own;
  const u = new URL(cfg.DATABASE_URL);
  u.pathname = `/${databaseName(cfg, key)}`;
  return u.toString();
}

export function databaseName(cfg: Config, key: DatabaseKey): string {
  return `${cfg.DB_NAME_PREFIX}${key}`;
}
