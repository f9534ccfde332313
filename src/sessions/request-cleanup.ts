import type { FlowProducer } from 'bullmq';
import type pg from 'pg';
import type { Config } from '../config/env.ts';
import { buildCleanupFlow } from '../flows/cleanup-flow.ts';
import type { SessionEnd } from '../flows/jobs.ts';
import { QueueUnavailableError } from './errors.ts';
import { markDestroying, type SessionRecord } from '../db/sql/sessions.ts';

/**
 * Moves a session to `destroying` and enqueues its cleanup flow (a second request
 * adds nothing: the flow's job ids are fixed per session). Returns the record as it
 * now is, or undefined for an unknown session.
 */
export async function requestCleanup(
  cfg: Config,
  db: pg.Pool,
  flows: FlowProducer,
  sessionId: string,
  end: SessionEnd,
): Promise<SessionRecord | undefined> {
  const s = await markDestroying(db, sessionId, end);
  if (!s || s.status === 'destroyed' || s.status === 'expired') return s;
  try {
    // The session id only: the cleanup reads the tenants from the record.
    await flows.add(buildCleanupFlow(cfg, { sessionId, end: s.ending ?? end }));
  } catch (err) {
    throw new QueueUnavailableError(err);
  }
  return s;
}
