import type { JobsOptions } from 'bullmq';
import type { Config } from '../config/env.ts';

/**
 * Flow jobs do not get a queue's defaultJobOptions, so every job of a flow carries
 * its own attempts and backoff.
 */
export function serviceJobOptions(cfg: Config, jobId: string): JobsOptions {
  return {
    jobId,
    attempts: cfg.JOB_ATTEMPTS,
    backoff: { type: 'exponential', delay: cfg.JOB_BACKOFF_MS },
    // A child that fails for good is recorded on its parent, which then runs and
    // cleans the session up, instead of waiting forever.
    ignoreDependencyOnFailure: true,
    removeOnComplete: { age: 3600, count: 5000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** The session job cleans up after failures itself, so it gets more attempts. */
export function sessionJobOptions(cfg: Config, jobId: string): JobsOptions {
  return {
    jobId,
    attempts: Math.max(cfg.JOB_ATTEMPTS, 8),
    backoff: { type: 'exponential', delay: Math.max(cfg.JOB_BACKOFF_MS, 100) },
    removeOnComplete: { age: 3600, count: 5000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** Job ids may not contain ':'; session ids are uuids. */
export function serviceJobId(sessionId: string, service: string): string {
  return `${sessionId}-${service}`;
}

/** The session queue's job ids: `<session>` (the load's parent), `<session>-cleanup`, `<session>-expire`. */
export const cleanupJobId = (sessionId: string): string => `${sessionId}-cleanup`;
export const expireJobId = (sessionId: string): string => `${sessionId}-expire`;

/**
 * Cleanups must finish: many attempts, backoff capped by its exponential growth
 * (about 20 minutes of retries in all with the default 200 ms), and they leave no
 * job behind once done, since their data names the session's tenants.
 */
export function cleanupJobOptions(cfg: Config, jobId: string): JobsOptions {
  return {
    jobId,
    attempts: Math.max(cfg.JOB_ATTEMPTS, 12),
    backoff: { type: 'exponential', delay: Math.max(cfg.JOB_BACKOFF_MS, 100) },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}
