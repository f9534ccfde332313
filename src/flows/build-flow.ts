import { SERVICE_SPECS, WAVES, waveOf, type ServiceName } from '../catalog/services.ts';
import type { Config } from '../config/env.ts';
import { flowJob, SESSION_QUEUE, type SessionJobData, type SessionRef, type TypedFlowJob } from './jobs.ts';
import { serviceJobId, serviceJobOptions, sessionJobOptions } from './options.ts';

/**
 * The flow of one session. BullMQ runs children before their parent and gives a job
 * one parent only, so the dependencies are not nested statically: the tree holds
 * the session job with the services that depend on nothing as its children. The
 * rest join as children of the same session job while it waits: the service job
 * that completes a service's dependencies adds it (workers/service-job.ts), and
 * should that not happen, the session job adds whatever is ready when it runs
 * (workers/session-job.ts). So a service starts only after every service it depends
 * on has completed, as soon as the last of them has, and services that may run side
 * by side do.
 */
export function buildSessionFlow(cfg: Config, data: SessionJobData): TypedFlowJob<'session'> {
  return flowJob(
    'session',
    SESSION_QUEUE,
    data,
    sessionJobOptions(cfg, data.sessionId),
    serviceJobs(cfg, data, WAVES[0] as readonly ServiceName[]),
  );
}

/** The jobs loading `services` for a session; `parent` (the session job) when they join a running flow. */
export function serviceJobs(
  cfg: Config,
  data: SessionRef,
  services: readonly ServiceName[],
  parent?: { id: string; queue: string },
): TypedFlowJob<'load-service'>[] {
  return services.map((service) => {
    const jobData = {
      sessionId: data.sessionId,
      profile: data.profile,
      dataDir: data.dataDir,
      createdAt: data.createdAt,
      ttlSeconds: data.ttlSeconds,
      ...(data.subscriptionTier !== undefined && { subscriptionTier: data.subscriptionTier }),
      service,
      phase: SERVICE_SPECS[service].phase,
      wave: waveOf(service),
    };
    const opts = serviceJobOptions(cfg, serviceJobId(data.sessionId, service));
    return flowJob('load-service', service, jobData, parent ? { ...opts, parent } : opts);
  });
}
