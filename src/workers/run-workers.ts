import { QueueEventsProducer, UnrecoverableError, Worker, type Job } from 'bullmq';
import path from 'node:path';
import { DEMO_SESSION_DB, SERVICES, type DatabaseKey, type ServiceName } from '../catalog/services.ts';
import { listProfiles } from '../seed/profile.ts';
import type { ProfileCache } from '../seed/profile-cache.ts';
import type { Config } from '../config/env.ts';
import type { Databases } from '../db/pools.ts';
import {
  isJobName,
  parseJobData,
  SESSION_QUEUE,
  type JobHandler,
  type JobHandlers,
  type JobName,
} from '../flows/jobs.ts';
import { createFlowProducer } from '../flows/queues.ts';
import { ATTEMPT_FAILED, EVENTS_MAX_LEN, type AttemptFailedFields } from '../flows/session-events.ts';
import type { Logger } from '../shared/logger.ts';
import { bullmqTelemetry, tracing } from '../shared/telemetry.ts';
import { createRedis } from '../redis/connection.ts';
import { outageLog, redisTarget } from '../redis/outage-log.ts';
import { workerContext } from '../runtime/context.ts';
import { cleanupService, runCleanup, runExpire } from './cleanup-job.ts';
import { loadService } from './service-job.ts';
import { startReconciler } from './reconciler.ts';
import { runSession } from './session-job.ts';

/** The databases the given queues write to. */
export function databasesOf(services: readonly ServiceName[], sessionQueue: boolean): DatabaseKey[] {
  return sessionQueue ? [...services, DEMO_SESSION_DB] : [...services];
}

export interface RunningWorkers {
  readonly workers: readonly Worker[];
  /** Stops taking jobs and waits for running ones up to WORKER_CLOSE_TIMEOUT_MS, then forces. */
  close(): Promise<void>;
}

/** Starts one worker per service queue (and the session queue), each with WORKER_CONCURRENCY. */
export async function startWorkers(
  cfg: Config,
  dbs: Databases,
  log: Logger,
  services: readonly ServiceName[] = SERVICES,
  opts: { sessionQueue?: boolean; profiles?: ProfileCache } = {},
): Promise<RunningWorkers> {
  // Every connection's errors go to the process's outage log: an outage told once, not per retry.
  const outage = outageLog(log);
  const shared = createRedis(cfg.REDIS_URL, 'worker', {}, { log, name: 'shared' });
  const target = redisTarget(shared);
  // ID maps and progress get a connection of their own: one that BullMQ loaded its ~50
  // scripts onto makes every ioredis pipeline copy them all (a measurable cost per job).
  const maps = createRedis(cfg.REDIS_URL, 'worker', {}, { log, name: 'id-maps' });
  // In a process that also serves the API (start, create), its profile cache: each profile parsed once.
  const w = { ...workerContext(cfg, dbs, maps, log, shared), ...(opts.profiles ? { profiles: opts.profiles } : {}) };
  const flows = createFlowProducer(cfg, shared);
  const common = {
    prefix: cfg.QUEUE_PREFIX,
    concurrency: cfg.WORKER_CONCURRENCY,
    lockDuration: cfg.LOCK_DURATION_MS,
    stalledInterval: cfg.STALLED_INTERVAL_MS,
    maxStalledCount: cfg.MAX_STALLED_COUNT,
    ...bullmqTelemetry(),
  };
  const workers: Worker[] = [];
  const connections = [shared, maps];
  const connection = () => {
    const c = createRedis(cfg.REDIS_URL, 'worker', {}, { log, name: 'worker' });
    connections.push(c);
    return c;
  };
  // One handler per job name of the map: a missing or mistyped one fails to compile.
  const handlers = {
    'load-service': (job) => loadService(job, w, flows),
    'cleanup-service': (job) => cleanupService(job, w),
    session: (job, token) => runSession(job, token, w, flows),
    cleanup: (job, token) => runCleanup(job, token, w, flows),
    expire: (job) => runExpire(job, w, flows),
  } satisfies JobHandlers;
  // A job's data is checked against its schema (flows/jobs.ts) before its handler runs:
  // bad data, a job added by hand, fails for good at once and reaches no SQL or Lua.
  const dispatch = async (job: Job<unknown, unknown, string>, token?: string): Promise<unknown> => {
    if (!isJobName(job.name))
      throw new UnrecoverableError(`no handler for job "${job.name}" on queue ${job.queueName}`);
    try {
      parseJobData({ name: job.name, queueName: job.queueName, id: job.id, data: job.data });
    } catch (err) {
      const sessionId = (job.data as { sessionId?: unknown } | null)?.sessionId;
      log.warn(
        {
          queue: job.queueName,
          job: job.name,
          job_id: job.id,
          session_id: typeof sessionId === 'string' ? sessionId.slice(0, 64) : undefined,
          err: (err as Error).message,
        },
        'job refused: bad data',
      );
      throw err;
    }
    const t = tracing();
    t?.setAttributes(jobAttributes(job));
    // parseJobData checked the data against this name's schema and its queue.
    const result = await (handlers[job.name] as JobHandler<JobName>)(job as Job<never, never, JobName>, token);
    t?.setAttributes(resultAttributes(result));
    return result;
  };
  for (const service of services) {
    workers.push(new Worker(service, dispatch, { ...common, connection: connection(), name: `demo-seed-${service}` }));
  }
  let reconciler: { stop(): Promise<void> } | undefined;
  if (opts.sessionQueue ?? true) {
    workers.push(
      new Worker(SESSION_QUEUE, dispatch, { ...common, connection: connection(), name: 'demo-seed-session' }),
    );
    reconciler = startReconciler(w, flows, shared, {
      intervalMs: cfg.RECONCILE_INTERVAL_MS,
      loadTimeoutMs: cfg.SESSION_LOAD_TIMEOUT_SECONDS * 1000,
      graceMs: Math.max(2 * cfg.RECONCILE_INTERVAL_MS, 5_000),
    });
  }
  // The API reads only the session queue's events: failed attempts of service jobs
  // are told there (flows/session-events.ts), best effort.
  const sessionEvents = new QueueEventsProducer(SESSION_QUEUE, { connection: shared, prefix: cfg.QUEUE_PREFIX });
  outage.watchErrors(sessionEvents, { target, source: 'session events producer' });
  const tell = (queue: string, jobId: string | undefined, final: boolean, stalled: boolean) => {
    if (queue === SESSION_QUEUE || jobId === undefined) return;
    const fields: AttemptFailedFields = { queue, jobId, final: final ? '1' : '0', stalled: stalled ? '1' : '0' };
    sessionEvents
      .publishEvent({ eventName: ATTEMPT_FAILED, ...fields }, EVENTS_MAX_LEN)
      .catch((err: unknown) =>
        log.warn(
          { queue, job_id: jobId, err: (err as Error).message },
          'could not publish a failed attempt to the event stream',
        ),
      );
  };
  for (const worker of workers) {
    worker.on('failed', (job, err) => {
      log.warn(
        { queue: worker.name, job_id: job?.id, attempt: job?.attemptsMade, err: err.message },
        'job attempt failed',
      );
      // moveToFailed sets finishedOn only when the job failed for good.
      tell(worker.name, job?.id, job?.finishedOn !== undefined, false);
    });
    worker.on('stalled', (jobId) => tell(worker.name, jobId, false, true));
    // Its connections' errors (and its own): BullMQ duplicates the connection for the blocking reads.
    outage.watchErrors(worker, {
      target,
      source: `worker ${worker.name}`,
      msg: 'worker error',
      fields: { queue: worker.name },
    });
  }
  await Promise.all(workers.map((wk) => wk.waitUntilReady()));
  // Best effort: open a connection per database and read the profiles before the first job needs them.
  const dataDir = path.resolve(cfg.SEED_DATA_DIR);
  await Promise.allSettled([
    ...databasesOf(services, opts.sessionQueue ?? true).map((k) => dbs.pool(k).query('SELECT 1')),
    ...listProfiles(dataDir).map((p) => w.profiles.get(dataDir, p)),
  ]);
  const fkChecks = await Promise.allSettled(services.map(async (s) => [s, await dbs.loadSkipsFkChecks(s)] as const));
  const checked = fkChecks.flatMap((r) => (r.status === 'fulfilled' && !r.value[1] ? [r.value[0]] : []));
  if (cfg.LOAD_FK_CHECKS === 'skip' && checked.length > 0) {
    log.warn(
      { databases: checked },
      'loads check every foreign key here: the role may not set session_replication_role (GRANT SET ON PARAMETER session_replication_role, PostgreSQL 15+, lets them skip it); see LOAD_FK_CHECKS',
    );
  }
  log.info(
    { queues: workers.map((wk) => wk.name), concurrency: cfg.WORKER_CONCURRENCY, load_fk_checks: cfg.LOAD_FK_CHECKS },
    'workers started',
  );

  return {
    workers,
    async close() {
      await reconciler?.stop();
      const graceful = Promise.all(workers.map((wk) => wk.close()));
      const timedOut = await Promise.race([
        graceful.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(true), cfg.WORKER_CLOSE_TIMEOUT_MS).unref()),
      ]);
      if (timedOut) {
        log.warn(
          { timeout_ms: cfg.WORKER_CLOSE_TIMEOUT_MS },
          'workers did not finish in time; forcing close (their jobs will be retried)',
        );
        await Promise.all(workers.map((wk) => wk.close(true)));
      }
      await flows.close();
      await sessionEvents.close().catch(() => undefined);
      for (const c of connections) c.disconnect();
    },
  };
}

/** The job's span (bullmq-otel's `process` span): which session, which attempt. */
function jobAttributes(job: Job<unknown, unknown, string>): Record<string, string | number> {
  const d = job.data as { sessionId?: unknown; service?: unknown; phase?: unknown };
  return {
    'demo.attempt': job.attemptsMade + 1,
    ...(typeof d.sessionId === 'string' ? { 'demo.session_id': d.sessionId } : {}),
    ...(typeof d.service === 'string' ? { 'demo.service': d.service } : {}),
    ...(typeof d.phase === 'string' ? { 'demo.phase': d.phase } : {}),
  };
}

/** A service job's result on its span: rows, duration, attempts. */
function resultAttributes(result: unknown): Record<string, number | boolean> {
  const r = (result ?? {}) as { rows?: unknown; duration_ms?: unknown; attempts?: unknown; already_loaded?: unknown };
  const out: Record<string, number | boolean> = {};
  if (typeof r.rows === 'number') out['demo.rows'] = r.rows;
  if (typeof r.duration_ms === 'number') out['demo.duration_ms'] = r.duration_ms;
  if (typeof r.attempts === 'number') out['demo.attempts'] = r.attempts;
  if (typeof r.already_loaded === 'boolean') out['demo.already_loaded'] = r.already_loaded;
  return out;
}
