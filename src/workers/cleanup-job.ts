import { WaitingChildrenError, type FlowProducer, type Job } from 'bullmq';
import { SERVICES, type ServiceName } from '../catalog/services.ts';
import { cleanupServiceJobs, CLEANUP_WAVES } from '../flows/cleanup-flow.ts';
import type { CleanupJobData, CleanupJobResult, CleanupServiceJobData, CleanupServiceJobResult, ExpireJobData } from '../flows/jobs.ts';
import { requestCleanup } from '../producer/request-cleanup.ts';
import { getSession, markGone } from '../producer/session-store.ts';
import type { WorkerContext } from './context.ts';
import { removeFromService, removeSessionKeys } from './remove-session-data.ts';

/** `cleanup-service`: one service database's share of a cleanup. */
export async function cleanupService(job: Job<CleanupServiceJobData, CleanupServiceJobResult>, w: WorkerContext): Promise<CleanupServiceJobResult> {
  const d = job.data;
  const t0 = Date.now();
  const deleted = await removeFromService(w, d.service, d.sessionId, d.tenantIds);
  const duration_ms = Date.now() - t0;
  w.log.info({ session_id: d.sessionId, service: d.service, job_id: job.id, rows: deleted, duration_ms }, `service ${d.service} cleaned`);
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
  for (;;) {
    const values = Object.values(await job.getChildrenValues<CleanupServiceJobResult>());
    const done = new Map<ServiceName, CleanupServiceJobResult>(values.map((r) => [r.service, r]));
    // A child that failed after all its attempts is done here instead; if that fails
    // too, this job fails and is retried with backoff, so the session never stays half-deleted.
    for (const key of Object.keys(await job.getIgnoredChildrenFailures())) {
      const service = key.split(':').at(-2) as ServiceName;
      const deleted = await removeFromService(w, service, d.sessionId, d.tenantIds);
      done.set(service, { service, wave: 0, deleted, duration_ms: 0 });
    }
    if (done.size === SERVICES.length) {
      await removeSessionKeys(w, d.sessionId);
      await markGone(w.dbs.pool('demo_session'), d.sessionId, d.end);
      const deleted = [...done.values()].reduce((n, r) => n + r.deleted, 0);
      w.log.info({ session_id: d.sessionId, rows: deleted, duration_ms: Date.now() - job.timestamp }, `session ${d.end}`);
      return { status: d.end, deleted, services: Object.fromEntries([...done].map(([s, r]) => [s, r.deleted])) };
    }
    const index = CLEANUP_WAVES.findIndex((wave) => wave.some((s) => !done.has(s)));
    const next = (CLEANUP_WAVES[index] as readonly ServiceName[]).filter((s) => !done.has(s));
    const parent = { id: job.id as string, queue: job.queueQualifiedName };
    await flows.addBulk(cleanupServiceJobs(w.cfg, d, next, index + 1).map((j) => ({ ...j, opts: { ...j.opts, parent } })));
    if (await job.moveToWaitingChildren(token ?? '')) throw new WaitingChildrenError();
  }
}

/** `expire`: the session's TTL is over; clean it up unless that is done or under way. */
export async function runExpire(job: Job<ExpireJobData>, w: WorkerContext, flows: FlowProducer): Promise<{ cleanup: boolean }> {
  const s = await getSession(w.dbs.pool('demo_session'), job.data.sessionId);
  if (!s || ['destroying', 'destroyed', 'expired'].includes(s.status)) return { cleanup: false };
  await requestCleanup(w.cfg, w.dbs.pool('demo_session'), flows, s.session_id, 'expired');
  w.log.info({ session_id: s.session_id }, 'session expired; cleanup started');
  return { cleanup: true };
}
