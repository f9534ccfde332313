import type { FlowProducer, Queue } from 'bullmq';
import { createQueue } from '../flows/queues.ts';
import type { Redis } from 'ioredis';
import { SESSION_QUEUE, type ServiceJobResult } from '../flows/jobs.ts';
import { expireJob } from '../flows/cleanup-flow.ts';
import { enqueueSession } from '../sessions/create-session.ts';
import { requestCleanup } from '../sessions/request-cleanup.ts';
import { markFailed, sessionsToReconcile, type ReconcileCursor, type ReconcileRecord } from '../db/sql/sessions.ts';
import type { WorkerContext } from '../runtime/context.ts';
import { removeSessionData } from '../sessions/remove-session-data.ts';
import { cleanupJobId, expireJobId } from '../flows/options.ts';
import { failedKey, jobKey } from '../flows/queue-keys.ts';

/** How often the reconciler runs, and when a session counts as lost or overdue. */
export interface ReconcilerOptions {
  readonly intervalMs: number;
  /** A session still loading after this long has failed. */
  readonly loadTimeoutMs: number;
  /** Younger records are left alone: their jobs may be on their way. */
  readonly graceMs: number;
  /** Live sessions checked per run (default 1000); unfinished ones, up to `limit` (default 5000), every run. */
  readonly page?: number;
  readonly limit?: number;
}

export interface ReconcileReport {
  rebuilt: string[];
  timedOut: string[];
  cleanups: string[];
  expiries: string[];
}

/**
 * Recovery, not scheduling: sessions move on through their jobs, and this loop
 * only repairs what a lost Redis (restarted without persistence, flushed) or a
 * stuck flow left behind:
 * - a pending or loading session whose flow job is gone, or failed for good, is
 *   enqueued again (loads are idempotent: services already loaded are skipped and
 *   republish their maps);
 * - a session loading for longer than `loadTimeoutMs` fails and is cleaned up;
 * - a session being destroyed whose cleanup job is gone, or failed for good, gets
 *   a new cleanup flow;
 * - a live session whose expiry job is gone gets it back, or is expired when due.
 * It runs in every process that runs the session queue, for the sessions of its
 * own QUEUE_PREFIX; one run at a time cluster-wide (a Redis lock), and every
 * repair is safe to repeat. Each run looks at every unfinished session, at the
 * live ones overdue for expiry, and at the next page of the other live ones (a walk
 * through them all, however many there are; see sessionsToReconcile).
 *
 * `connection`: a Redis connection BullMQ already uses (the FlowProducer's), for the
 * session queue's job lookups; never the ID-map connection, whose pipelines would then
 * carry BullMQ's scripts. A tick while a run is still going is skipped.
 */
export function startReconciler(
  w: WorkerContext,
  flows: FlowProducer,
  connection: Redis,
  opts: ReconcilerOptions,
): { stop(): Promise<void> } {
  const queue = createQueue(w.cfg, connection, SESSION_QUEUE);
  let running: Promise<unknown> | undefined;
  let cursor: ReconcileCursor = null;
  const timer = setInterval(() => {
    if (running) return;
    running = reconcileOnce(w, flows, queue, opts, cursor)
      .then((r) => {
        cursor = r.next;
        const n = r.rebuilt.length + r.timedOut.length + r.cleanups.length + r.expiries.length;
        if (n > 0)
          w.log.warn(
            { rebuilt: r.rebuilt, timedOut: r.timedOut, cleanups: r.cleanups, expiries: r.expiries },
            'reconciler repaired sessions',
          );
      })
      .catch((err: unknown) => w.log.warn({ err: (err as Error).message }, 'reconciler run failed; next run retries'))
      .finally(() => (running = undefined));
  }, opts.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await queue.close();
    },
  };
}

/** One run; `cursor`: where the walk through live sessions stands (the report's `next` is where the following run goes on). */
export async function reconcileOnce(
  w: WorkerContext,
  flows: FlowProducer,
  queue: Queue,
  opts: ReconcilerOptions,
  cursor: ReconcileCursor = null,
): Promise<ReconcileReport & { next: ReconcileCursor }> {
  const report = {
    rebuilt: [] as string[],
    timedOut: [] as string[],
    cleanups: [] as string[],
    expiries: [] as string[],
    next: cursor,
  };
  const prefix = w.cfg.QUEUE_PREFIX;
  const lock = `${prefix}:reconciler:lock`;
  if ((await w.redis.set(lock, String(process.pid), 'PX', Math.max(100, opts.intervalMs - 50), 'NX')) !== 'OK')
    return report;
  const db = w.dbs.pool('demo_session');
  const { sessions, next } = await sessionsToReconcile(db, prefix, {
    limit: opts.limit ?? 5000,
    page: opts.page ?? 1000,
    after: cursor,
    overdueMs: opts.graceMs,
  });
  report.next = next;
  if (sessions.length === 0) return report;

  // One round trip: does each session's flow, cleanup and expiry job exist, and has
  // a parent failed for good (it then counts as lost: its steps are idempotent)?
  const failedSet = failedKey(prefix, SESSION_QUEUE);
  const pipe = w.redis.pipeline();
  for (const s of sessions) {
    pipe.exists(jobKey(prefix, SESSION_QUEUE, s.session_id));
    pipe.exists(jobKey(prefix, SESSION_QUEUE, cleanupJobId(s.session_id)));
    pipe.exists(jobKey(prefix, SESSION_QUEUE, expireJobId(s.session_id)));
    pipe.zscore(failedSet, s.session_id);
    pipe.zscore(failedSet, cleanupJobId(s.session_id));
  }
  const replies = ((await pipe.exec()) ?? []).map(([err, v]) => (err ? undefined : v));
  const now = Date.now();
  const drop = async (jobId: string) => {
    await (await queue.getJob(jobId))?.remove({ removeChildren: true });
  };

  for (const [i, s] of sessions.entries()) {
    const r = replies.slice(5 * i, 5 * i + 5);
    const [flowFailed, cleanupFailed] = [r[3] !== null && r[3] !== undefined, r[4] !== null && r[4] !== undefined];
    const flow = Number(r[0] ?? 1) > 0 && !flowFailed;
    const cleanup = Number(r[1] ?? 1) > 0 && !cleanupFailed;
    const expire = Number(r[2] ?? 1) > 0;
    const age = now - s.updated_at.getTime();
    try {
      if (s.status === 'pending' || s.status === 'loading') {
        if (now - s.created_at.getTime() > opts.loadTimeoutMs) {
          await failStuck(w, queue, s, opts.loadTimeoutMs);
          report.timedOut.push(s.session_id);
        } else if (!flow && now - s.created_at.getTime() > opts.graceMs && s.data_dir) {
          if (flowFailed) await drop(s.session_id);
          await enqueueSession(w.cfg, flows, s);
          report.rebuilt.push(s.session_id);
        }
      } else if (s.status === 'destroying') {
        if (!cleanup && age > opts.graceMs) {
          if (cleanupFailed) await drop(cleanupJobId(s.session_id));
          await requestCleanup(w.cfg, db, flows, s.session_id, s.ending ?? 'destroyed');
          report.cleanups.push(s.session_id);
        }
      } else if (!expire) {
        // ready or failed: its expiry must be pending, or be done now.
        if (s.expires_at.getTime() <= now) await requestCleanup(w.cfg, db, flows, s.session_id, 'expired');
        else await flows.add(expireJob(w.cfg, s.session_id, s.expires_at.getTime() - now));
        report.expiries.push(s.session_id);
      }
    } catch (err) {
      w.log.warn(
        { session_id: s.session_id, err: (err as Error).message },
        'could not repair session; next run retries',
      );
    }
  }
  return report;
}

async function failStuck(w: WorkerContext, queue: Queue, s: ReconcileRecord, timeoutMs: number): Promise<void> {
  // What did load, as the session's flow recorded it, so the session still tells the truth.
  let loaded: Record<string, ServiceJobResult> = {};
  const job = await queue.getJob(s.session_id);
  if (job)
    loaded = Object.fromEntries(
      Object.values(await job.getChildrenValues<ServiceJobResult>()).map((r) => [r.service, r]),
    );
  await removeSessionData(w, s);
  await markFailed(
    w.dbs.pool('demo_session'),
    s.session_id,
    `loading did not finish within ${Math.round(timeoutMs / 1000)} s`,
    loaded,
  );
}
