import { WAVES, type ServiceName } from '../catalog/services.ts';
import type { Config } from '../config/env.ts';
import { flowJob, SESSION_QUEUE, type CleanupJobData, type TypedFlowJob } from './jobs.ts';
import { cleanupJobId, cleanupJobOptions, expireJobId } from './options.ts';

/** Services in cleanup order: the reverse of the load waves (dependents before what they depend on). */
export const CLEANUP_WAVES: readonly (readonly ServiceName[])[] = [...WAVES].reverse();

/**
 * The cleanup flow of a session: a `cleanup` parent on the session queue whose
 * first children are the last load wave's `cleanup-service` jobs (each on its
 * service's queue); like the load, the parent adds the next wave each time it runs
 * (workers/cleanup-job.ts), then removes the Redis keys and marks the session.
 * Its jobs name the session only, never its tenants.
 */
export function buildCleanupFlow(cfg: Config, data: CleanupJobData): TypedFlowJob<'cleanup'> {
  return flowJob(
    'cleanup',
    SESSION_QUEUE,
    { sessionId: data.sessionId, end: data.end },
    cleanupJobOptions(cfg, cleanupJobId(data.sessionId)),
    cleanupServiceJobs(cfg, data, CLEANUP_WAVES[0] as readonly ServiceName[], 1),
  );
}

export function cleanupServiceJobs(
  cfg: Config,
  data: CleanupJobData,
  services: readonly ServiceName[],
  wave: number,
): TypedFlowJob<'cleanup-service'>[] {
  // The session only: each job reads the tenants from the session's record.
  return services.map((service) =>
    flowJob(
      'cleanup-service',
      service,
      { sessionId: data.sessionId, end: data.end, service, wave },
      { ...cleanupJobOptions(cfg, `${data.sessionId}-cleanup-${service}`), ignoreDependencyOnFailure: true },
    ),
  );
}

/** The delayed job that expires a session after its TTL. */
export function expireJob(cfg: Config, sessionId: string, delayMs: number): TypedFlowJob<'expire'> {
  return flowJob(
    'expire',
    SESSION_QUEUE,
    { sessionId },
    { ...cleanupJobOptions(cfg, expireJobId(sessionId)), delay: Math.max(0, delayMs) },
  );
}
