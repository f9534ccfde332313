import { getSession, markDestroying, markGone } from '../db/sql/sessions.ts';
import type { WorkerContext } from '../runtime/context.ts';
import { removeSessionData } from './remove-session-data.ts';

export class UnknownSessionError extends Error {
  override name = 'UnknownSessionError';
}

/**
 * Removes a session's rows from every database and its Redis keys, then marks it
 * `destroyed` (or `expired`). Safe to repeat; a session still loading stops loading.
 */
export async function destroySession(
  w: WorkerContext,
  sessionId: string,
  end: 'destroyed' | 'expired' = 'destroyed',
): Promise<{ deleted: Record<string, number>; duration_ms: number }> {
  const t0 = Date.now();
  const db = w.dbs.pool('demo_session');
  const s = (await markDestroying(db, sessionId, end)) ?? (await getSession(db, sessionId));
  if (!s) throw new UnknownSessionError(`no session ${sessionId}`);
  // The tenants are the record's, and each database deletes only those its load marker records.
  const deleted = await removeSessionData(w, s);
  if (s.status !== 'destroyed' && s.status !== 'expired') await markGone(db, sessionId, end);
  const duration_ms = Date.now() - t0;
  w.log.info({ session_id: sessionId, deleted, duration_ms }, `session ${end}`);
  return { deleted, duration_ms };
}
