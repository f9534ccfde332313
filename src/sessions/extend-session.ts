import { Job, type FlowProducer, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Config } from '../config/env.ts';
import { extendReadySessionThen } from '../db/sql/session-extend.ts';
import { getSession, type SessionRecord, type SessionStatus } from '../db/sql/sessions.ts';
import { expireJob } from '../flows/cleanup-flow.ts';
import { expireJobId } from '../flows/options.ts';
import { sessionKeys } from '../redis/keys.ts';
import { QueueUnavailableError } from './errors.ts';

/**
 * PATCH's extension of a session (contract, "Demo access"): its expires_at moves by
 * the seconds asked, never past DEMO_SESSION_MAX_TTL_SECONDS after its creation, and
 * with it the delayed `expire` job and the TTL of the session's Redis keys. Only a
 * ready, unexpired session is extended: a loading one still has jobs that write its
 * keys with the first TTL, and an ending one is on its way out.
 */

/** The session is not ready (or its time is up): nothing moved. */
export class SessionNotExtendableError extends Error {
  override name = 'SessionNotExtendableError';
  constructor(readonly status: SessionStatus) {
    super(`the session is ${status}; only a ready session can be extended`);
  }
}

/** The extension would pass the longest life a session may have: nothing moved. */
export class MaxTtlExceededError extends Error {
  override name = 'MaxTtlExceededError';
  constructor(
    readonly maxTtlSeconds: number,
    /** The most that may still be added, in whole seconds (0: none). */
    readonly remainingSeconds: number,
  ) {
    super(`a session lives at most DEMO_SESSION_MAX_TTL_SECONDS (${maxTtlSeconds} s) after its creation`);
  }
}

/** The expiry job has started already (the TTL is up): the session is ending, nothing moved. */
export class SessionExpiringError extends Error {
  override name = 'SessionExpiringError';
  constructor() {
    super('the session is expiring now');
  }
}

export interface ExtendDeps {
  readonly cfg: Config;
  readonly db: pg.Pool;
  readonly redis: Redis;
  readonly flows: FlowProducer;
  /** The session queue, where the expire job waits. */
  readonly queue: Queue;
}

/** The session's Redis keys live an hour past its expiry, as at creation (sessionJobData). */
async function moveKeyTtls(d: ExtendDeps, s: SessionRecord): Promise<void> {
  const ttl = Math.ceil((s.expires_at.getTime() - Date.now()) / 1000) + 3600;
  const pipe = d.redis.pipeline();
  for (const key of sessionKeys(d.cfg.QUEUE_PREFIX, s.session_id)) pipe.expire(key, ttl);
  const results = await pipe.exec();
  const failed = results?.find(([err]) => err);
  if (failed) throw failed[0] as Error;
}

/** The delayed expire job now fires at the new expires_at; a lost one is added again. */
async function moveExpiry(d: ExtendDeps, s: SessionRecord): Promise<void> {
  const delay = Math.max(0, s.expires_at.getTime() - Date.now());
  const job = await Job.fromId(d.queue, expireJobId(s.session_id));
  if (!job) {
    await d.flows.add(expireJob(d.cfg, s.session_id, delay));
    return;
  }
  try {
    await job.changeDelay(delay);
  } catch (err) {
    // Not in the delayed set: promoted, running or done, so the session is ending.
    if (!(await job.isDelayed())) throw new SessionExpiringError();
    throw err;
  }
}

/**
 * Extends a session by `seconds`: the record, the expire job and the keys' TTL move
 * together (the record's row stays locked until the job has moved; a failure in Redis
 * leaves the record as it was). The record as it now is, or undefined for an unknown
 * session. Throws SessionNotExtendableError, MaxTtlExceededError, SessionExpiringError,
 * or QueueUnavailableError when Redis does not answer.
 */
export async function extendSession(
  d: ExtendDeps,
  sessionId: string,
  seconds: number,
): Promise<SessionRecord | undefined> {
  const max = d.cfg.DEMO_SESSION_MAX_TTL_SECONDS;
  const moved = await extendReadySessionThen(d.db, sessionId, seconds, max, async (s) => {
    try {
      await moveKeyTtls(d, s);
      await moveExpiry(d, s);
    } catch (err) {
      if (err instanceof SessionExpiringError) throw err;
      throw new QueueUnavailableError(err);
    }
  });
  if (moved) return moved;
  const s = await getSession(d.db, sessionId);
  if (!s) return undefined;
  if (s.status !== 'ready') throw new SessionNotExtendableError(s.status);
  if (s.expires_at.getTime() <= Date.now()) throw new SessionExpiringError();
  const latest = s.created_at.getTime() + max * 1000;
  throw new MaxTtlExceededError(max, Math.max(0, Math.floor((latest - s.expires_at.getTime()) / 1000)));
}
