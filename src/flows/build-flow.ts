import type { FlowJob } from 'bullmq';
import { SERVICE_SPECS, WAVES, type ServiceName } from '../catalog/services.ts';
import type { Config } from '../config/env.ts';
import { SESSION_QUEUE, type ServiceJobData, type SessionJobData } from './jobs.ts';
import { serviceJobId, serviceJobOptions, sessionJobOptions } from './options.ts';

/**
 * The flow of one session. BullMQ runs children before their parent and gives a job
 * one parent only, so the dependency phases are not nested statically: the tree
 * holds the session job with the first wave's service jobs (those depending on
 * nothing) as children. Each time the session job runs it adds, as its children,
 * the services whose dependencies have all completed, and waits for them
 * (see workers/session-job.ts). So a service starts only after every service it
 * depends on has completed, and services that may run side by side do.
 */
export function buildSessionFlow(cfg: Config, data: SessionJobData): FlowJob {
  return {
    name: 'session',
    queueName: SESSION_QUEUE,
    data,
    opts: sessionJobOptions(cfg, data.sessionId),
    children: serviceJobs(cfg, data, WAVES[0] as readonly ServiceName[], 1),
  };
}

export function serviceJobs(cfg: Config, data: SessionJobData, services: readonly ServiceName[], wave: number): FlowJob[] {
  return services.map((service) => {
    const jobData: ServiceJobData = {
      sessionId: data.sessionId,
      profile: data.profile,
      dataDir: data.dataDir,
      createdAt: data.createdAt,
      ttlSeconds: data.ttlSeconds,
      service,
      phase: SERVICE_SPECS[service].phase,
      wave,
    };
    return {
      name: 'load-service',
      queueName: service,
      data: jobData,
      opts: serviceJobOptions(cfg, serviceJobId(data.sessionId, service)),
    };
  });
}
