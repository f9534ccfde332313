import type { FlowJob } from 'bullmq';
import { WAVES, type ServiceName } from '../catalog/services.ts';
import type { Config } from '../config/env.ts';
import { SESSION_QUEUE, type CleanupJobData, type CleanupServiceJobData, type ExpireJobData } from './jobs.ts';
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
export function buildCleanupFlow(cfg: Config, data: CleanupJobData): FlowJob {
  const parent: CleanupJobData = { sessionId: data.sessionId, end: data.end };
  return {
    name: 'cleanup',
    queueName: SESSION_QUEUE,
    data: parent,
    opts: cleanupJobOptions(cfg, cleanupJobId(data.sessionId)),
    children: cleanupServiceJobs(cfg, data, CLEANUP_WAVES[0] as readonly ServiceName[], 1),
  };
}

export function cleanupServiceJobs(cfg: Config, data: CleanupJobData, services: readonly ServiceName[], wave: number): FlowJob[] {
  return services.map((service) => {
    // The session only: each job reads the tenants from the session's record.
    const d: CleanupServiceJobData = { sessionId: data.sessionId, end: data.end, service, wave };
    return {
      name: 'cleanup-service',
      queueName: service,
      data: d,
      opts: { ...cleanupJobOptions(cfg, `${data.sessionId}-cleanup-${service}`), ignoreDependencyOnFailure: true },
    };
  });
}

/** The delayed job that expires a session after its TTL. */
export function expireJob(cfg: Config, sessionId: string, delayMs: number): FlowJob {
  const data: ExpireJobData = { sessionId };
  return { name: 'expire', queueName: SESSION_QUEUE, data, opts: { ...cleanupJobOptions(cfg, expireJobId(sessionId)), delay: Math.max(0, delayMs) } };
}
