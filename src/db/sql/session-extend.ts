import type pg from 'pg';
import type { SessionRecord } from './sessions.ts';

/**
 * Moves a ready, unexpired session's expires_at by `seconds`, unless that passes
 * `created_at + maxTtlSeconds`; the record as it now is, or undefined when it did not
 * move (not ready, past its time, over the maximum, unknown: the caller reads the
 * record to tell which). Run in a transaction, the row stays locked until the expiry
 * job has moved too, so two extensions of one session cannot cross.
 */
export async function extendReadySession(
  db: pg.PoolClient,
  sessionId: string,
  seconds: number,
  maxTtlSeconds: number,
): Promise<SessionRecord | undefined> {
  const { rows } = await db.query<SessionRecord>(
    `UPDATE demo_sessions SET expires_at = expires_at + make_interval(secs => $2), updated_at = now()
     WHERE session_id = $1 AND status = 'ready' AND expires_at > now()
       AND expires_at + make_interval(secs => $2) <= created_at + make_interval(secs => $3)
     RETURNING *`,
    [sessionId, seconds, maxTtlSeconds],
  );
  return rows[0];
}

/**
 * extendReadySession() and `then` (the expiry job's move) in one transaction: when
 * `then` throws, the record is left as it was and the error passes on. Undefined when
 * the session did not move (nothing else done).
 */
export async function extendReadySessionThen(
  db: pg.Pool,
  sessionId: string,
  seconds: number,
  maxTtlSeconds: number,
  then: (record: SessionRecord) => Promise<void>,
): Promise<SessionRecord | undefined> {
  const client = await db.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    try {
      const record = await extendReadySession(client, sessionId, seconds, maxTtlSeconds);
      if (record) await then(record);
      await client.query(record ? 'COMMIT' : 'ROLLBACK');
      return record;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: unknown) => (broken = e as Error));
      throw err;
    }
  } finally {
    // A connection whose ROLLBACK failed is not given back to the pool.
    client.release(broken);
  }
}
