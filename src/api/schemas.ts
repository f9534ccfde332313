import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { SERVICES } from '../catalog/services.ts';
import { SUBSCRIPTION_TIERS } from '../catalog/tables.ts';
import { SESSION_STATUSES } from '../db/sql/sessions.ts';
import { UUID_RE } from '../shared/uuid.ts';
import type { ErrorDetail } from './errors.ts';

/**
 * Request and response shapes of the HTTP API, in zod. The handlers validate with
 * them and openapi.ts builds the OpenAPI document from the very same schemas.
 */
// openapi.ts registers these schemas by name through `.openapi()`, which zod 4 only
// gives to schemas created after this call (idempotent).
extendZodWithOpenApi(z);

const uuid = () => z.string().regex(UUID_RE, 'must be a uuid');
const instant = () => z.string().meta({ format: 'date-time' });
/** A zod error message that says "is required" for a missing field. */
const required = (otherwise: string) => (iss: { input?: unknown }) =>
  iss.input === undefined ? 'is required' : otherwise;

export const ErrorSchema = z.object({
  error: z.object({
    code: z.string().meta({ description: 'stable, machine-readable', example: 'validation_error' }),
    message: z.string().meta({ description: 'for people; never a stack trace' }),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

/** POST's subscription_tier: one of these (the catalog's, tenant.tenants.subscription_tier). */
export { SUBSCRIPTION_TIERS };

/** The POST body. The account types are the profiles found in SEED_DATA_DIR. */
export function createSessionSchema(profiles: readonly string[]) {
  return z.object({
    demo_account_type: z
      .enum(profiles as [string, ...string[]], {
        error: required(`must be one of: ${profiles.join(', ') || '(no profile installed)'}`),
      })
      .meta({ description: 'the seed-data profile to load', example: profiles[0] }),
    email: z
      .email({ error: required('must be an email address') })
      .max(254, 'must be at most 254 characters')
      .meta({ description: 'who asked for the demo; live sessions per email are capped', example: 'test@example.com' }),
    subscription_tier: z
      .enum(SUBSCRIPTION_TIERS, { error: `must be one of: ${SUBSCRIPTION_TIERS.join(', ')}` })
      .nullable()
      .optional()
      .meta({
        description:
          "written to the main tenant's subscription_tier; default: the account type's (professional, enterprise)",
        example: 'professional',
      }),
  });
}
export type CreateSessionBody = z.output<ReturnType<typeof createSessionSchema>>;

/** POST's optional header: a retry carrying the same key answers with the session the first request made. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const IdempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1-255 visible ASCII characters (a uuid, say)')
  .meta({
    description: 'makes POST safe to retry: a request with a key seen before answers with the session it made',
    example: '5f1c2b9e-2d4a-4c8e-9b1a-0e7d3f6a2c4b',
  });

export const SessionIdSchema = uuid().meta({ description: 'the session id (a uuid)' });

export const SessionStatusSchema = z.enum(SESSION_STATUSES);

/** The demo token and who it is for (POST and PATCH only; GET never shows it). */
export const AccessSchema = z.object({
  token: z.string().meta({
    description:
      'a JWT (EdDSA or ES256, `kid` in its header) for the main user: iss, aud, sub, sid, tenant_id, tenant_ids, role, email, iat, exp (= expires_at), jti; verify it with /.well-known/jwks.json',
  }),
  token_type: z.literal('Bearer'),
  expires_at: instant(),
  user: z.object({
    id: uuid().meta({ description: "the main user's id, a row of auth.users of the session" }),
    email: z.string().meta({ description: "the user's per-session email (under DEMO_EMAIL_DOMAIN)" }),
    role: z.string(),
  }),
  login_url: z
    .string()
    .nullable()
    .meta({ description: 'DEMO_LOGIN_URL with `#token=<token>` (in the fragment); null when it is not set' }),
});

export const SessionCreatedSchema = z.object({
  session_id: uuid(),
  status: SessionStatusSchema,
  demo_account_type: z.string(),
  tenant_id: uuid().meta({ description: 'the main tenant' }),
  tenant_ids: z.array(uuid()).meta({ description: 'every tenant of the session, the main one first' }),
  expires_at: instant(),
  access: AccessSchema.nullable().meta({
    description: "the main user's token; null only for a profile that names no main user (manifest.owner)",
  }),
});

const TableResultSchema = z.object({ rows: z.number().int(), duration_ms: z.number() });

export const ServiceViewSchema = z.object({
  status: z
    .enum(['pending', 'loading', 'ready', 'failed', 'removed'])
    .meta({ description: "`removed`: it had loaded, and the session's rows are gone since" }),
  rows: z.number().int(),
  duration_ms: z.number().nullable(),
  tables: z.record(z.string(), TableResultSchema).optional(),
  error: z.string().optional(),
});

const PhaseSummarySchema = z.object({
  phase: z.number().int(),
  services: z.array(z.string()),
  rows: z.number().int(),
  started_at: z.number(),
  finished_at: z.number(),
  duration_ms: z.number(),
});

export const SessionViewSchema = z.object({
  session_id: uuid(),
  status: SessionStatusSchema,
  demo_account_type: z.string(),
  subscription_tier: z.string().nullable(),
  tenant_id: uuid(),
  tenant_ids: z.array(uuid()),
  created_at: instant(),
  expires_at: instant(),
  ready_at: instant().nullable(),
  duration_ms: z.number().nullable().meta({ description: 'creation to ready, once ready' }),
  error: z.string().nullable().meta({ description: 'why loading failed' }),
  trace_id: z
    .string()
    .nullable()
    .meta({ description: 'the OpenTelemetry trace of the request that created it; null when tracing was off' }),
  phases: z.record(z.string(), PhaseSummarySchema),
  services: z.object(
    Object.fromEntries(SERVICES.map((s) => [s, ServiceViewSchema])) as Record<
      (typeof SERVICES)[number],
      typeof ServiceViewSchema
    >,
  ),
});

/** PATCH's body: how many seconds to add to expires_at. */
export function extendSessionSchema(maxTtlSeconds: number) {
  return z.object({
    extend_seconds: z
      .number({ error: required('must be a whole number of seconds') })
      .int('must be a whole number of seconds')
      .min(1, 'must be at least 1')
      .max(maxTtlSeconds, `must be at most ${maxTtlSeconds} (DEMO_SESSION_MAX_TTL_SECONDS)`)
      .meta({ description: 'seconds added to expires_at', example: 1800 }),
  });
}

export const SessionExtendedSchema = SessionViewSchema.extend({ access: AccessSchema.nullable() });

/** RFC 7662 request: the token, as a form field or in JSON. */
export const IntrospectRequestSchema = z.object({
  token: z.string({ error: required('must be a string') }).meta({ description: 'a demo token' }),
  token_type_hint: z.string().optional(),
});

export const IntrospectionSchema = z
  .object({
    active: z.boolean(),
    iss: z.string().optional(),
    aud: z.union([z.string(), z.array(z.string())]).optional(),
    sub: uuid().optional(),
    sid: uuid().optional(),
    tenant_id: uuid().optional(),
    tenant_ids: z.array(uuid()).optional(),
    role: z.string().optional(),
    email: z.string().optional(),
    iat: z.number().int().optional(),
    exp: z.number().int().optional(),
    jti: z.string().optional(),
  })
  .meta({
    description:
      "`active: true` with the token's claims while its session is ready and unexpired; `active: false` alone otherwise (destroyed, expired, failed, bad signature, wrong issuer or audience, expired token, not a token)",
  });

export const JwksSchema = z.object({
  keys: z.array(
    z
      .object({ kty: z.string(), kid: z.string(), alg: z.enum(['EdDSA', 'ES256']), use: z.literal('sig') })
      .catchall(z.string()),
  ),
});

export const HealthSchema = z.object({ status: z.literal('ok') });
export const ReadySchema = z.object({
  status: z.literal('ready'),
  checks: z.object({ redis: z.literal('ok'), databases: z.literal('ok') }),
});

/** zod issues as the `details` of a 400: the field's path and what is wrong with it. */
export function issueDetails(error: z.ZodError): ErrorDetail[] {
  return error.issues.slice(0, 20).map((i) => ({
    path: i.path.length > 0 ? i.path.map(String).join('.') : '(body)',
    message: i.code === 'invalid_type' && i.path.length === 0 ? 'the body must be a JSON object' : i.message,
  }));
}
