import { QueueEvents, type QueueEventsListener } from 'bullmq';
import type { Config } from '../config/env.ts';
import { isServiceName } from '../catalog/services.ts';
import type { CleanupJobResult, SessionJobResult } from '../flows/jobs.ts';
import { SESSION_QUEUE } from '../flows/jobs.ts';
import {
  ATTEMPT_FAILED,
  SERVICE_LOADED,
  type AttemptFailedFields,
  type ServiceLoadedFields,
} from '../flows/session-events.ts';
import type { Logger } from '../shared/logger.ts';
import { createRedis } from '../redis/connection.ts';
import { outageLog, redisTarget } from '../redis/outage-log.ts';
import { UUID_RE } from '../shared/uuid.ts';
import type { ApiMetrics } from './metrics.ts';
import { cleanupJobId, expireJobId } from '../flows/options.ts';

/**
 * Feeds the job metrics and the live event streams from the session queue's event
 * stream (QueueEvents), so they cover workers in every process. The workers add to
 * that stream what the API needs to know of the service queues (a service loaded, a
 * failed attempt: flows/session-events.ts), and a session's result carries its
 * services' rows and times, so one reader serves where one per queue would mean 12
 * blocking reads, each woken by every job's every step.
 * Each API process counts every event: with several API replicas, take one
 * replica's series (or `max`), not their sum.
 */
export interface QueueEventsFeed {
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export interface FeedDeps {
  readonly metrics: ApiMetrics;
  readonly log: Logger;
  /** The session's own job changed state, or a job of it failed (feeds the live event streams). */
  onSessionEvent?(sessionId: string): void;
  /** A service job of this session completed. */
  onServiceDone?(sessionId: string): void;
  /** Profile and load time of a session that just became ready. */
  sessionTiming(sessionId: string): Promise<{ demo_account_type: string; duration_ms: number | null } | undefined>;
}

/** Job ids on the session queue: `<session>` (load), `<session>-cleanup`, `<session>-expire`. */
function sessionJobKind(jobId: string): 'session' | 'cleanup' | 'expire' | undefined {
  if (UUID_RE.test(jobId)) return 'session';
  const session = jobId.slice(0, 36);
  if (!UUID_RE.test(session)) return undefined;
  if (jobId === cleanupJobId(session)) return 'cleanup';
  if (jobId === expireJobId(session)) return 'expire';
  return undefined;
}

/** The session a job belongs to: every job id starts with the session's uuid. */
export function sessionOfJob(jobId: string): string | undefined {
  const head = jobId.slice(0, 36);
  return UUID_RE.test(head) ? head : undefined;
}

/** The workers' own events on the session queue's stream (flows/session-events.ts). */
interface SessionQueueListener extends QueueEventsListener {
  [SERVICE_LOADED]: (args: ServiceLoadedFields, id: string) => void;
  [ATTEMPT_FAILED]: (args: AttemptFailedFields, id: string) => void;
}

const MAX_TRACKED = 50_000;
const CLOSE_WAIT_MS = 2_000;

export function startQueueEventsFeed(cfg: Config, deps: FeedDeps): QueueEventsFeed {
  const { metrics, log } = deps;
  // Read from now on, even if the first XREAD is sent a little later.
  const lastEventId = `${Date.now()}-0`;
  // Each QueueEvents blocks on XREAD, so BullMQ gives it a duplicate of this connection.
  // Its errors and the readers' (their duplicates') go to the process's outage log: told once per outage.
  const template = createRedis(cfg.REDIS_URL, 'worker', {}, { log, name: 'queue events' });
  const outage = outageLog(log);
  const target = redisTarget(template);
  let all: QueueEvents[] = [];
  let closed = false;

  const listen = (): QueueEvents => {
    const queue = SESSION_QUEUE;
    const events = new QueueEvents(queue, { connection: template, prefix: cfg.QUEUE_PREFIX, lastEventId });
    // Jobs seen running: an `active` job that goes back to delayed/waiting was retried.
    const running = new Set<string>();
    const track = (jobId: string) => {
      if (running.size >= MAX_TRACKED) running.clear();
      running.add(jobId);
    };
    // Reconnects are BullMQ's job; an outage is told once (and summed up every few seconds).
    outage.watchErrors(events, { target, source: 'queue events', msg: 'queue events: error', fields: { queue } });
    // Streams are nudged by the session's own job (waiting for its services, ready,
    // failed or removed) and by any failed attempt; a service loaded is passed on too.
    const nudge = (jobId: string) => {
      const session = sessionOfJob(jobId);
      if (session) deps.onSessionEvent?.(session);
    };
    events.on('active', ({ jobId }) => track(jobId));
    events.on('waiting-children', ({ jobId }) => {
      running.delete(jobId);
      nudge(jobId);
    });
    events.on('delayed', ({ jobId }) => {
      if (running.delete(jobId)) metrics.jobRetries.inc({ queue });
    });
    events.on('waiting', ({ jobId, prev }) => {
      if (prev === 'active') {
        running.delete(jobId);
        metrics.jobRetries.inc({ queue });
      }
    });
    events.on('failed', ({ jobId }) => {
      running.delete(jobId);
      metrics.jobFailures.inc({ queue });
      nudge(jobId);
    });
    events.on('completed', ({ jobId, returnvalue }) => {
      running.delete(jobId);
      nudge(jobId);
      try {
        onCompleted(jobId, returnvalue as unknown);
      } catch (err) {
        log.warn({ queue, job_id: jobId, err: (err as Error).message }, 'metrics: unexpected job result');
      }
    });
    // What the workers add about the service queues (flows/session-events.ts).
    events.on<SessionQueueListener>(SERVICE_LOADED, ({ jobId }: ServiceLoadedFields) => {
      const session = sessionOfJob(jobId);
      if (session) deps.onServiceDone?.(session);
    });
    events.on<SessionQueueListener>(
      ATTEMPT_FAILED,
      ({ queue: service, jobId, final, stalled }: AttemptFailedFields) => {
        if (!isServiceName(service)) return;
        if (final === '1') metrics.jobFailures.inc({ queue: service });
        else metrics.jobRetries.inc({ queue: service });
        if (stalled !== '1') nudge(jobId);
      },
    );
    return events;
  };

  // BullMQ's QueueEvents cannot be closed while its first connection attempt is still
  // pending (close() waits for it), so they are only created once Redis has answered.
  let onReady: (() => void) | undefined;
  const ready = new Promise<void>((resolve) => {
    onReady = () => {
      if (closed) return;
      all = [listen()];
      void Promise.all(all.map((e) => e.waitUntilReady())).then(
        () => resolve(),
        () => undefined,
      );
    };
    if (template.status === 'ready') onReady();
    else template.once('ready', onReady);
  });

  function onCompleted(jobId: string, value: unknown): void {
    if (!value || typeof value !== 'object') return;
    const kind = sessionJobKind(jobId);
    if (kind === 'session') {
      const r = value as SessionJobResult;
      metrics.sessionsFinished.inc({ status: r.status });
      for (const [service, f] of Object.entries(r.services ?? {})) {
        if (!isServiceName(service)) continue;
        metrics.serviceDuration.observe({ service }, f.duration_ms / 1000);
        metrics.rowsLoaded.inc({ service }, f.rows);
      }
      if (r.status !== 'ready') return;
      if (r.profile !== undefined && r.duration_ms !== undefined) {
        metrics.sessionDuration.observe({ demo_account_type: r.profile }, r.duration_ms / 1000);
        return;
      }
      // A result without its timing (a worker of an older version): read it.
      deps
        .sessionTiming(jobId)
        .then((t) => {
          if (t?.duration_ms != null)
            metrics.sessionDuration.observe({ demo_account_type: t.demo_account_type }, t.duration_ms / 1000);
        })
        .catch((err: unknown) =>
          log.warn({ session_id: jobId, err: (err as Error).message }, 'metrics: could not read session duration'),
        );
    } else if (kind === 'cleanup') {
      const r = value as CleanupJobResult;
      metrics.sessionsRemoved.inc({ end: r.status });
      for (const [service, deleted] of Object.entries(r.services ?? {})) {
        if (isServiceName(service)) metrics.rowsDeleted.inc({ service }, deleted);
      }
    }
  }

  return {
    ready,
    async close() {
      closed = true;
      if (onReady) template.off('ready', onReady);
      const closing = Promise.all(all.map((e) => e.close().catch(() => undefined)));
      // With Redis gone, BullMQ disconnects the client but then waits for an `end`
      // event ioredis never sends for a connection that is reconnecting: don't wait long.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closing, new Promise((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
      clearTimeout(timer);
      template.disconnect();
    },
  };
}
