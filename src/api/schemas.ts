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

export const SessionCreatedSchema = z.object({
  session_id: uuid(),
  status: SessionStatusSchema,
  demo_account_type: z.string(),
  tenant_id: uuid().meta({ description: 'the main tenant' }),
  tenant_ids: z.array(uuid()).meta({ description: 'every tenant of the session, the main one first' }),
  expires_at: instant(),
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
  phases: z.record(z.string(), PhaseSummarySchema),
  services: z.object(
    Object.fromEntries(SERVICES.map((s) => [s, ServiceViewSchema])) as Record<
      (typeof SERVICES)[number],
      typeof ServiceViewSchema
    >,
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
