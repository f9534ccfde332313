import { QueueEvents } from 'bullmq';
import type { Config } from '../config/env.ts';
import type { CleanupJobResult, CleanupServiceJobResult, ServiceJobResult, SessionJobResult } from '../flows/jobs.ts';
import { SESSION_QUEUE } from '../flows/jobs.ts';
import { QUEUE_NAMES } from '../flows/queues.ts';
import type { Logger } from '../logger.ts';
import { createRedis } from '../redis/connection.ts';
import { UUID_RE } from '../seed/ids.ts';
import type { ApiMetrics } from './metrics.ts';
import { cleanupJobId, expireJobId } from '../flows/options.ts';

/**
 * Feeds the job metrics from BullMQ's per-queue event streams (QueueEvents), so
 * they cover workers in every process. Each API process counts every event: with
 * several API replicas, take one replica's series (or `max`), not their sum.
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

const MAX_TRACKED = 50_000;
const CLOSE_WAIT_MS = 2_000;

export function startQueueEventsFeed(cfg: Config, deps: FeedDeps): QueueEventsFeed {
  const { metrics, log } = deps;
  // Read from now on, even if the first XREAD is sent a little later.
  const lastEventId = `${Date.now()}-0`;
  // Each QueueEvents blocks on XREAD, so BullMQ gives it a duplicate of this connection.
  const template = createRedis(cfg.REDIS_URL, 'worker');
  template.on('error', () => undefined);
  let lastError = '';
  let all: QueueEvents[] = [];
  let closed = false;

  const listen = (queue: string): QueueEvents => {
    const events = new QueueEvents(queue, { connection: template, prefix: cfg.QUEUE_PREFIX, lastEventId });
    // Jobs seen running: an `active` job that goes back to delayed/waiting was retried.
    const running = new Set<string>();
    const track = (jobId: string) => {
      if (running.size >= MAX_TRACKED) running.clear();
      running.add(jobId);
    };
    events.on('error', (err) => {
      // Reconnects are BullMQ's job; say so once per distinct problem.
      if (err.message !== lastError) log.warn({ queue, err: err.message }, 'queue events: connection problem');
      lastError = err.message;
    });
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
    // Streams are nudged by the session queue (the session waiting for its services,
    // ready, failed or removed) and by any failure; a service done is passed on too.
    const nudge = (jobId: string, always = false) => {
      const session = sessionOfJob(jobId);
      if (!session) return;
      if (always || queue === SESSION_QUEUE) deps.onSessionEvent?.(session);
      else deps.onServiceDone?.(session);
    };
    events.on('failed', ({ jobId }) => {
      running.delete(jobId);
      metrics.jobFailures.inc({ queue });
      nudge(jobId, true);
    });
    events.on('completed', ({ jobId, returnvalue }) => {
      running.delete(jobId);
      nudge(jobId);
      try {
        onCompleted(queue, jobId, returnvalue as unknown);
      } catch (err) {
        log.warn({ queue, job_id: jobId, err: (err as Error).message }, 'metrics: unexpected job result');
      }
    });
    return events;
  };

  // BullMQ's QueueEvents cannot be closed while its first connection attempt is still
  // pending (close() waits for it), so they are only created once Redis has answered.
  let onReady: (() => void) | undefined;
  const ready = new Promise<void>((resolve) => {
    onReady = () => {
      if (closed) return;
      all = QUEUE_NAMES.map(listen);
      void Promise.all(all.map((e) => e.waitUntilReady())).then(() => resolve(), () => undefined);
    };
    if (template.status === 'ready') onReady();
    else template.once('ready', onReady);
  });

  function onCompleted(queue: string, jobId: string, value: unknown): void {
    if (!value || typeof value !== 'object') return;
    if (queue !== SESSION_QUEUE) {
      if ('rows' in value && 'tables' in value) {
        const r = value as ServiceJobResult;
        metrics.serviceDuration.observe({ service: queue }, r.duration_ms / 1000);
        metrics.rowsLoaded.inc({ service: queue }, r.rows);
      } else if ('deleted' in value) {
        metrics.rowsDeleted.inc({ service: queue }, (value as CleanupServiceJobResult).deleted);
      }
      return;
    }
    const kind = sessionJobKind(jobId);
    if (kind === 'session') {
      const { status } = value as SessionJobResult;
      metrics.sessionsFinished.inc({ status });
      if (status === 'ready') {
        deps
          .sessionTiming(jobId)
          .then((t) => {
            if (t?.duration_ms != null) metrics.sessionDuration.observe({ demo_account_type: t.demo_account_type }, t.duration_ms / 1000);
          })
          .catch((err: unknown) => log.warn({ session_id: jobId, err: (err as Error).message }, 'metrics: could not read session duration'));
      }
    } else if (kind === 'cleanup') {
      metrics.sessionsRemoved.inc({ end: (value as CleanupJobResult).status });
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
