import { UnrecoverableError, WaitingChildrenError, type FlowProducer, type Job } from 'bullmq';
import { SERVICES, type ServiceName } from '../catalog/services.ts';
import { cleanupServiceJobs, CLEANUP_WAVES } from '../flows/cleanup-flow.ts';
import type {
  CleanupJobData,
  CleanupJobResult,
  CleanupServiceJobData,
  CleanupServiceJobResult,
  ExpireJobData,
} from '../flows/jobs.ts';
import { requestCleanup } from '../sessions/request-cleanup.ts';
import { getSession, markDestroying, markGone, type SessionRecord, type SessionStatus } from '../db/sql/sessions.ts';
import type { WorkerContext } from '../runtime/context.ts';
import { removeFromService, removeSessionKeys } from '../sessions/remove-session-data.ts';
import { queueOfJobKey } from '../flows/queue-keys.ts';

/** A session whose rows a cleanup may remove: one on its way out. */
const ENDING: readonly SessionStatus[] = ['destroying', 'destroyed', 'expired'];

/**
 * The session a cleanup job removes, as its record in bakery_demo_session has it: the
 * tenants whose rows go are the record's, never the job's. A job for a session with
 * no record, or whose data names a tenant that is not the record's (cleanup jobs name
 * none now; older ones named the record's own), is refused for good and deletes nothing.
 */
async function sessionToClean(
  w: WorkerContext,
  job: Job,
  d: Pick<CleanupJobData, 'sessionId' | 'tenantIds'>,
): Promise<SessionRecord> {
  const refuse = (why: string, fields: Record<string, unknown> = {}): never => {
    w.log.warn(
      { session_id: d.sessionId, job: job.name, job_id: job.id, queue: job.queueName, ...fields },
      `cleanup refused: ${why}`,
    );
    throw new UnrecoverableError(`${job.name} of session ${d.sessionId} refused: ${why}; nothing deleted`);
  };
  const s = await getSession(w.dbs.pool('demo_session'), d.sessionId);
  if (!s) return refuse('the session has no record in bakery_demo_session');
  const own = new Set(s.tenant_ids.map((t) => t.toLowerCase()));
  const foreign = (d.tenantIds ?? []).filter((t) => !own.has(t.toLowerCase()));
  if (foreign.length > 0)
    return refuse(`its data names ${foreign.length} tenant(s) that are not the session's`, { tenants: foreign });
  return s;
}

/** `cleanup-service`: one service database's share of a cleanup. */
export async function cleanupService(
  job: Job<CleanupServiceJobData, CleanupServiceJobResult>,
  w: WorkerContext,
): Promise<CleanupServiceJobResult> {
  const d = job.data;
  const t0 = Date.now();
  const session = await sessionToClean(w, job, d);
  // Its parent moved the session to `destroying` before adding it.
  if (!ENDING.includes(session.status)) {
    w.log.warn(
      { session_id: d.sessionId, service: d.service, job_id: job.id, status: session.status },
      'cleanup refused: the session is not being destroyed',
    );
    throw new UnrecoverableError(
      `cleanup-service of session ${d.sessionId} refused: the session is ${session.status}, not being destroyed; nothing deleted`,
    );
  }
  const deleted = await removeFromService(w, d.service, session);
  const duration_ms = Date.now() - t0;
  w.log.info(
    { session_id: d.sessionId, service: d.service, job_id: job.id, rows: deleted, duration_ms },
    `service ${d.service} cleaned`,
  );
  return { service: d.service, wave: d.wave, deleted, duration_ms };
}

/**
 * `cleanup`: the parent of a cleanup flow. Each run adds the next reverse wave
 * (services whose dependents are all cleaned) and waits; at the end it removes
 * the Redis keys and marks the session destroyed or expired.
 */
export async function runCleanup(
  job: Job<CleanupJobData, CleanupJobResult>,
  token: string | undefined,
  w: WorkerContext,
  flows: FlowProducer,
): Promise<CleanupJobResult> {
  const d = job.data;
  let session = await sessionToClean(w, job, d);
  if (!ENDING.includes(session.status)) {
    // A cleanup nobody asked the API for (added by hand): the session goes as a DELETE would take it.
    session = (await markDestroying(w.dbs.pool('demo_session'), d.sessionId, d.end)) ?? session;
    w.log.info({ session_id: d.sessionId, job_id: job.id }, 'cleanup of a session not marked destroying; marked now');
  }
  const end = session.ending ?? d.end;
  for (;;) {
    const values = Object.values(await job.getChildrenValues<CleanupServiceJobResult>());
    const done = new Map<ServiceName, CleanupServiceJobResult>(values.map((r) => [r.service, r]));
    // A child that failed after all its attempts is done here instead; if that fails
    // too, this job fails and is retried with backoff, so the session never stays half-deleted.
    for (const key of Object.keys(await job.getIgnoredChildrenFailures())) {
      const service = queueOfJobKey(w.cfg.QUEUE_PREFIX, key) as ServiceName;
      const deleted = await removeFromService(w, service, session);
      done.set(service, { service, wave: 0, deleted, duration_ms: 0 });
    }
    if (done.size === SERVICES.length) {
      await removeSessionKeys(w, d.sessionId);
      await markGone(w.dbs.pool('demo_session'), d.sessionId, end);
      const deleted = [...done.values()].reduce((n, r) => n + r.deleted, 0);
      w.log.info({ session_id: d.sessionId, rows: deleted, duration_ms: Date.now() - job.timestamp }, `session ${end}`);
      return { status: end, deleted, services: Object.fromEntries([...done].map(([s, r]) => [s, r.deleted])) };
    }
    const index = CLEANUP_WAVES.findIndex((wave) => wave.some((s) => !done.has(s)));
    const next = (CLEANUP_WAVES[index] as readonly ServiceName[]).filter((s) => !done.has(s));
    const parent = { id: job.id as string, queue: job.queueQualifiedName };
    await flows.addBulk(
      cleanupServiceJobs(w.cfg, { sessionId: d.sessionId, end }, next, index + 1).map((j) => ({
        ...j,
        opts: { ...j.opts, parent },
      })),
    );
    if (await job.moveToWaitingChildren(token ?? '')) throw new WaitingChildrenError();
  }
}

/** `expire`: the session's TTL is over; clean it up unless that is done or under way. */
export async function runExpire(
  job: Job<ExpireJobData>,
  w: WorkerContext,
  flows: FlowProducer,
): Promise<{ cleanup: boolean }> {
  const s = await getSession(w.dbs.pool('demo_session'), job.data.sessionId);
  if (!s || ['destroying', 'destroyed', 'expired'].includes(s.status)) return { cleanup: false };
  await requestCleanup(w.cfg, w.dbs.pool('demo_session'), flows, s.session_id, 'expired');
  w.log.info({ session_id: s.session_id }, 'session expired; cleanup started');
  return { cleanup: true };
}
