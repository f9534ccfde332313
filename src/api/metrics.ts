import type { Queue } from 'bullmq';
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from '../shared/logger.ts';
import { SESSION_STATUSES, type SessionStatus } from '../db/sql/sessions.ts';

/**
 * The Prometheus metrics of the API process, on a registry of its own. Sessions
 * by status are read from the database at scrape time; the job histograms and
 * counters are fed by queue-events.ts from BullMQ's event streams, so they count
 * the work of every worker process, wherever it runs.
 */
const SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];

export class ApiMetrics {
  readonly registry = new Registry();

  readonly sessionsCreated = new Counter({
    name: 'demo_sessions_created_total',
    help: 'Demo sessions created through the API',
    labelNames: ['demo_account_type'] as const,
    registers: [this.registry],
  });

  readonly sessionsFinished = new Counter({
    name: 'demo_sessions_finished_total',
    help: 'Session loads that ended, by outcome (ready, failed, destroyed while loading)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly sessionsRemoved = new Counter({
    name: 'demo_sessions_removed_total',
    help: 'Sessions whose rows were removed, by how they ended (destroyed, expired)',
    labelNames: ['end'] as const,
    registers: [this.registry],
  });

  readonly sessionDuration = new Histogram({
    name: 'demo_session_duration_seconds',
    help: 'Time from creation to ready of a demo session',
    labelNames: ['demo_account_type'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });

  readonly serviceDuration = new Histogram({
    name: 'demo_service_load_duration_seconds',
    help: "Time a service's load job spent working (not waiting in its queue), observed when its session's load ends",
    labelNames: ['service'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });

  readonly rowsLoaded = new Counter({
    name: 'demo_rows_loaded_total',
    help: "Rows loaded into the service databases, counted when their session's load ends",
    labelNames: ['service'] as const,
    registers: [this.registry],
  });

  readonly rowsDeleted = new Counter({
    name: 'demo_rows_deleted_total',
    help: 'Rows removed from the service databases by session cleanups',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });

  readonly jobFailures = new Counter({
    name: 'demo_job_failures_total',
    help: 'Jobs that failed for good (after their last attempt, or unrecoverably)',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });

  readonly jobRetries = new Counter({
    name: 'demo_job_retries_total',
    help: 'Job attempts that failed and were retried (or stalled and were run again)',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });

  readonly httpRequests = new Counter({
    name: 'demo_http_requests_total',
    help: 'HTTP requests, by route and the status code sent (none: closed before any answer; route unparsed: bytes Node answered 4xx before they became a request)',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly connectionsDropped = new Counter({
    name: 'demo_http_connections_dropped_total',
    help: 'TCP connections closed on arrival because HTTP_MAX_CONNECTIONS were open',
    registers: [this.registry],
  });

  constructor(countByStatus: () => Promise<Record<SessionStatus, number>>, log: Logger) {
    const registry = this.registry;
    new Gauge({
      name: 'demo_sessions',
      help: 'Demo sessions by status, as recorded in the database at scrape time',
      labelNames: ['status'] as const,
      registers: [registry],
      async collect() {
        try {
          const counts = await countByStatus();
          for (const s of SESSION_STATUSES) this.set({ status: s }, counts[s]);
        } catch (err) {
          // A scrape still answers; the gauge keeps its last values.
          log.warn({ err: (err as Error).message }, 'metrics: could not count sessions');
        }
      },
    });
    collectDefaultMetrics({ register: registry, prefix: 'demo_seed_api_' });
  }

  /**
   * The queues as BullMQ holds them, read at scrape time (so they cover every worker
   * process): jobs per state, the age of the oldest waiting job, and the workers
   * serving each queue. Each read is bounded; a queue that does not answer keeps its
   * last values (Redis down shows in demo_dependency_up).
   */
  watchQueues(queues: ReadonlyMap<string, Queue>, log: Logger): void {
    const states = ['waiting', 'active', 'delayed', 'failed', 'waiting-children'] as const;
    const snapshot = async () =>
      Promise.all(
        [...queues].map(async ([name, q]) => {
          const [counts, workers, oldest] = await Promise.all([
            q.getJobCounts(...states),
            q.getWorkersCount(),
            q.getJobs(['wait'], 0, 0, true),
          ]);
          return { name, counts, workers, oldestMs: oldest[0] ? Date.now() - oldest[0].timestamp : 0 };
        }),
      );
    let pending: ReturnType<typeof snapshot> | undefined;
    // The three gauges are read in one scrape: one snapshot serves them all.
    const read = () => {
      pending ??= bounded(snapshot(), 2_000).finally(() => setTimeout(() => (pending = undefined), 100).unref());
      return pending;
    };
    const failed = (err: unknown) => log.warn({ err: (err as Error).message }, 'metrics: could not read the queues');
    new Gauge({
      name: 'demo_queue_jobs',
      help: 'Jobs of each queue by state (waiting, active, delayed, failed, waiting-children), at scrape time',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        try {
          for (const q of await read())
            for (const st of states) this.set({ queue: q.name, state: st }, q.counts[st] ?? 0);
        } catch (err) {
          failed(err);
        }
      },
    });
    new Gauge({
      name: 'demo_queue_oldest_waiting_seconds',
      help: 'Age of the oldest job waiting in each queue (0 when none waits), at scrape time',
      labelNames: ['queue'] as const,
      registers: [this.registry],
      async collect() {
        try {
          for (const q of await read()) this.set({ queue: q.name }, q.oldestMs / 1000);
        } catch {
          // told by demo_queue_jobs
        }
      },
    });
    new Gauge({
      name: 'demo_queue_workers',
      help: 'Worker connections serving each queue, in every process, at scrape time',
      labelNames: ['queue'] as const,
      registers: [this.registry],
      async collect() {
        try {
          for (const q of await read()) this.set({ queue: q.name }, q.workers);
        } catch {
          // told by demo_queue_jobs
        }
      },
    });
  }

  /** demo_dependency_up: 1 while Redis or a database answers, 0 while not (the checks of /readyz), at scrape time. */
  watchDependencies(check: () => Promise<Record<string, boolean>>, log: Logger): void {
    new Gauge({
      name: 'demo_dependency_up',
      help: 'Whether Redis and each database answer (1) or not (0), at scrape time',
      labelNames: ['dependency'] as const,
      registers: [this.registry],
      async collect() {
        try {
          for (const [dependency, up] of Object.entries(await bounded(check(), 3_000)))
            this.set({ dependency }, up ? 1 : 0);
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'metrics: could not check the dependencies');
        }
      },
    });
  }

  /** GET /metrics: Prometheus text format. */
  handler(): RequestHandler {
    return async (_req, res) => {
      const body = await this.registry.metrics();
      res.setHeader('Content-Type', this.registry.contentType);
      res.send(body);
    };
  }
}

function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
