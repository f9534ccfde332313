import type pg from 'pg';
import { LIVE_STATUSES, SESSION_STATUSES, type SessionStatus } from './sessions.ts';

/** Read-only SQL on bakery_demo_session the API needs beyond the session store: one function per statement. */

/** Sessions per status, every status present (0 when none): the `demo_sessions` gauge. */
export async function countByStatus(db: pg.Pool): Promise<Record<SessionStatus, number>> {
  const { rows } = await db.query<{ status: SessionStatus; n: number }>(
    'SELECT status, count(*)::int AS n FROM demo_sessions GROUP BY status',
  );
  const out = Object.fromEntries(SESSION_STATUSES.map((s) => [s, 0])) as Record<SessionStatus, number>;
  for (const r of rows) out[r.status] = r.n;
  return out;
}

/** Live (pending, loading, ready and not yet past its TTL) sessions of one email, case-insensitive. */
export async function countLiveForEmail(db: pg.Pool, email: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM demo_sessions
     WHERE lower(email) = lower($1) AND status = ANY($2::text[]) AND expires_at > now()`,
    [email, LIVE_STATUSES],
  );
  return rows[0]?.n ?? 0;
}

/** The profile and load time of a session, for the session-duration histogram. */
export async function sessionTiming(
  db: pg.Pool,
  sessionId: string,
): Promise<{ demo_account_type: string; duration_ms: number | null } | undefined> {
  const { rows } = await db.query<{ demo_account_type: string; duration_ms: number | null }>(
    'SELECT demo_account_type, duration_ms FROM demo_sessions WHERE session_id = $1',
    [sessionId],
  );
  return rows[0];
}
