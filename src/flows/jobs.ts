import { UnrecoverableError, type FlowJob, type Job, type JobsOptions } from 'bullmq';
import { z } from 'zod';
import { PHASES, SERVICES, WAVES, type Phase, type ServiceName } from '../catalog/services.ts';
import { SUBSCRIPTION_TIERS } from '../catalog/tables.ts';
import { UUID_RE } from '../shared/uuid.ts';
import { PROFILE_NAME_RE } from '../seed/profile.ts';

/**
 * One typed map from job name to payload and result, shared by the flow builder,
 * the producer and the workers, so that enqueue and handler cannot disagree. Every
 * payload has a zod schema (JOB_DATA_SCHEMAS), its type is inferred from it, and the
 * workers check a job's data against it before its handler runs (parseJobData): a
 * job added by hand (the board, a script) with bad data fails at once, before any of
 * it reaches SQL or Lua.
 */

/** A field's message: "is required" when it is missing, else `otherwise`. */
const says = (otherwise: string) => (iss: { input?: unknown }) => (iss.input === undefined ? 'is required' : otherwise);
const uuid = () => z.string({ error: says('must be a uuid') }).regex(UUID_RE, 'must be a uuid');
const service = () => z.enum(SERVICES, { error: says(`must be one of: ${SERVICES.join(', ')}`) });
const int = () => z.int({ error: says('must be an integer') });
const wave = () => int().min(1, 'must be at least 1').max(WAVES.length, `must be at most ${WAVES.length}`);
const tenantIds = () =>
  z.array(uuid(), { error: says('must be an array of uuids') }).max(1000, 'must name at most 1000 tenants');

const sessionRefShape = {
  sessionId: uuid(),
  profile: z.string({ error: says('must be a profile name') }).regex(PROFILE_NAME_RE, 'must be a profile name'),
  /** Absolute seed-data root the session was created from. */
  dataDir: z.string({ error: says('must be a path') }).max(4096, 'must be at most 4096 characters'),
  /** ISO instant of creation: fixes the day dates move to, even for a retry after midnight. */
  createdAt: z.iso.datetime({ error: says('must be an ISO 8601 instant') }),
  /** Seconds the session's Redis keys live. */
  ttlSeconds: int().positive('must be positive'),
  /** The request's tier, written to the main tenant's row by the tenant service's load; none: the profile's. */
  subscriptionTier: z
    .enum(SUBSCRIPTION_TIERS, { error: says(`must be one of: ${SUBSCRIPTION_TIERS.join(', ')}`) })
    .optional(),
};

export const ServiceJobDataSchema = z.strictObject({
  ...sessionRefShape,
  service: service(),
  phase: z.literal(PHASES, { error: says(`must be one of: ${PHASES.join(', ')}`) }),
  /** The service's depth in the dependency graph, from 1 (see WAVES). */
  wave: wave(),
});

/**
 * The session job's data. Its `tenantIds` are what the session was created with, for
 * the record only: whatever deletes a session's rows reads them from its record.
 */
export const SessionJobDataSchema = z.strictObject({
  ...sessionRefShape,
  tenantIds: tenantIds(),
});

/**
 * Cleanups name the session only: the tenants whose rows go are the session record's
 * (bakery_demo_session), and within each database only those its own load marker
 * records (workers/remove-session-data.ts). `tenantIds` is what cleanups enqueued
 * before that carried; one naming a tenant that is not the record's is refused.
 */
const cleanupShape = {
  sessionId: uuid(),
  end: z.enum(['destroyed', 'expired'], { error: says('must be destroyed or expired') }),
  /** Deprecated: never read for deleting; only checked against the session's record. */
  tenantIds: tenantIds().optional(),
};

/** Removes a session from every database, in reverse dependency order (see flows/cleanup-flow.ts). */
export const CleanupJobDataSchema = z.strictObject(cleanupShape);

export const CleanupServiceJobDataSchema = z.strictObject({
  ...cleanupShape,
  service: service(),
  /** Its wave in the cleanup's order (CLEANUP_WAVES), from 1. */
  wave: wave(),
});

/** Delayed by the session's TTL: it starts the cleanup of a session that is still there. */
export const ExpireJobDataSchema = z.strictObject({ sessionId: uuid() });

export type SessionRef = Readonly<z.infer<z.ZodObject<typeof sessionRefShape>>>;
export type ServiceJobData = Readonly<z.infer<typeof ServiceJobDataSchema>>;
export type SessionJobData = Readonly<z.infer<typeof SessionJobDataSchema>>;
export type CleanupJobData = Readonly<z.infer<typeof CleanupJobDataSchema>>;
export type CleanupServiceJobData = Readonly<z.infer<typeof CleanupServiceJobDataSchema>>;
export type ExpireJobData = Readonly<z.infer<typeof ExpireJobDataSchema>>;

export interface TableResult {
  readonly rows: number;
  readonly duration_ms: number;
}

export interface ServiceJobResult {
  readonly service: ServiceName;
  readonly phase: Phase;
  readonly wave: number;
  readonly rows: number;
  readonly tables: Readonly<Record<string, TableResult>>;
  /** Time spent working (not waiting in the queue). */
  readonly duration_ms: number;
  readonly queued_at: number;
  readonly started_at: number;
  readonly finished_at: number;
  /**
   * When the service's ID maps went out (after its commit), which is when its
   * dependents may start; `finished_at` is once they are out.
   */
  readonly published_at: number;
  readonly attempts: number;
  /** True when an earlier run had already committed the rows (a retry after commit or a duplicate run). */
  readonly already_loaded: boolean;
}

export interface PhaseSummary {
  readonly phase: Phase;
  readonly services: readonly ServiceName[];
  readonly rows: number;
  readonly started_at: number;
  readonly finished_at: number;
  readonly duration_ms: number;
}

/** What a service's load did, as its session's result tells the API (for its metrics). */
export interface ServiceLoadFigures {
  readonly rows: number;
  readonly duration_ms: number;
}

export interface SessionJobResult {
  readonly status: 'ready' | 'failed' | 'destroyed';
  readonly error?: string;
  /** The profile (demo_account_type) the session was loaded from. */
  readonly profile?: string;
  /** Created → ready, when ready. */
  readonly duration_ms?: number;
  /** The services that loaded, each counted once per session however often its job ran. */
  readonly services?: Readonly<Record<string, ServiceLoadFigures>>;
}

export type SessionEnd = CleanupJobData['end'];

export interface CleanupServiceJobResult {
  readonly service: ServiceName;
  readonly wave: number;
  readonly deleted: number;
  readonly duration_ms: number;
}

export interface CleanupJobResult {
  readonly status: SessionEnd;
  readonly deleted: number;
  /** Rows deleted per service database. */
  readonly services?: Readonly<Record<string, number>>;
}

export interface JobTypes {
  'load-service': { data: ServiceJobData; result: ServiceJobResult };
  'cleanup-service': { data: CleanupServiceJobData; result: CleanupServiceJobResult };
  session: { data: SessionJobData; result: SessionJobResult };
  cleanup: { data: CleanupJobData; result: CleanupJobResult };
  expire: { data: ExpireJobData; result: { cleanup: boolean } };
}

export type JobName = keyof JobTypes;
export const SESSION_QUEUE = 'demo-session';

/** Each job's data schema: the single source of the data types above. */
export const JOB_DATA_SCHEMAS: { readonly [N in JobName]: z.ZodType<JobTypes[N]['data']> } = {
  'load-service': ServiceJobDataSchema,
  'cleanup-service': CleanupServiceJobDataSchema,
  session: SessionJobDataSchema,
  cleanup: CleanupJobDataSchema,
  expire: ExpireJobDataSchema,
};

/** Jobs that run on a service's own queue (the rest run on SESSION_QUEUE); their `service` is the queue's. */
export const SERVICE_QUEUE_JOBS: readonly JobName[] = ['load-service', 'cleanup-service'];

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOB_DATA_SCHEMAS, name);
}

/** What is wrong with a job's data, one `field: problem` per issue (empty when nothing). */
export function jobDataProblems(name: JobName, queue: string, data: unknown): string[] {
  const parsed = JOB_DATA_SCHEMAS[name].safeParse(data);
  if (!parsed.success) return parsed.error.issues.map(describeIssue);
  if (SERVICE_QUEUE_JOBS.includes(name)) {
    return (parsed.data as unknown as { service: string }).service === queue
      ? []
      : [`service: must be the queue's service (${queue})`];
  }
  return queue === SESSION_QUEUE ? [] : [`queue: this job runs on ${SESSION_QUEUE} only`];
}

function describeIssue(iss: z.core.$ZodIssue): string {
  const field = iss.path.map(String).join('.');
  if (iss.code === 'unrecognized_keys')
    return iss.keys.map((k) => `${field ? `${field}.` : ''}${k}: is not a field of this job`).join('; ');
  if (!field) return iss.code === 'invalid_type' ? 'data: must be an object' : `data: ${iss.message}`;
  return `${field}: ${iss.message}`;
}

/**
 * A job's data, checked against its schema and its queue; anything else fails the job
 * for good (UnrecoverableError: a retry would find the same data), naming the job, its
 * queue and what is wrong with the data.
 */
export function parseJobData<N extends JobName>(job: {
  name: N;
  queueName: string;
  id?: string | undefined;
  data: unknown;
}): JobTypes[N]['data'] {
  const problems = jobDataProblems(job.name, job.queueName, job.data);
  if (problems.length > 0)
    throw new UnrecoverableError(
      `job "${job.name}" ${job.id ?? ''} on queue ${job.queueName} refused: bad data: ${problems.join('; ')}`,
    );
  return job.data as JobTypes[N]['data'];
}

/**
 * A flow job whose name and data agree with the job map: the code enqueues only
 * through flowJob, never a bare `FlowJob` literal.
 */
export type TypedFlowJob<N extends JobName> = FlowJob & { readonly name: N; readonly data: JobTypes[N]['data'] };

/** A flow job of any name of the map, typed by it. */
export type AnyFlowJob = { [N in JobName]: TypedFlowJob<N> }[JobName];

/** The queue a job runs on: its service's for the service jobs, SESSION_QUEUE for the others. */
type QueueOf<N extends JobName> = N extends 'load-service' | 'cleanup-service' ? ServiceName : typeof SESSION_QUEUE;

export function flowJob<N extends JobName>(
  name: N,
  queueName: QueueOf<N>,
  data: JobTypes[N]['data'],
  opts: JobsOptions,
  children?: readonly AnyFlowJob[],
): TypedFlowJob<N> {
  // BullMQ's FlowJob types a child's options apart from a root's; the map's jobs take either place.
  return (
    children ? { name, queueName, data, opts, children: [...children] } : { name, queueName, data, opts }
  ) as TypedFlowJob<N>;
}

/** The handler of job N: its data and result are the map's. */
export type JobHandler<N extends JobName> = (
  job: Job<JobTypes[N]['data'], JobTypes[N]['result'], N>,
  token?: string,
) => Promise<JobTypes[N]['result']>;

/**
 * One handler per job name: a map declared `satisfies JobHandlers` fails to compile
 * when a name has no handler or a handler takes or gives the wrong types.
 */
export type JobHandlers = { readonly [N in JobName]: JobHandler<N> };
