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

  /** GET /metrics: Prometheus text format. */
  handler(): RequestHandler {
    return async (_req, res) => {
      const body = await this.registry.metrics();
      res.setHeader('Content-Type', this.registry.contentType);
      res.send(body);
    };
  }
}
