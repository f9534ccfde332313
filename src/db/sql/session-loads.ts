import type pg from 'pg';
import type { TableResult } from '../../flows/jobs.ts';
import { UUID_RE } from '../../seed/ids.ts';

/**
 * The load marker of a session in one service database (migrations/common). Each
 * statement is one named function; identifiers never come from input.
 */
export type LoadState = { state: 'loaded'; tables: Record<string, TableResult> } | { state: 'destroyed' };

/**
 * Opens the load's transaction and claims the session's load in it, in one round
 * trip. Returns null when claimed; otherwise (after rolling back) what an earlier
 * run left. A concurrent run of the same job waits here until the first commits
 * or rolls back. `sessionId` must be a uuid (it is inlined as a literal).
 */
export async function beginLoad(client: pg.PoolClient, sessionId: string): Promise<LoadState | null> {
  const results = (await client.query(
    `BEGIN; INSERT INTO demo_seed.session_loads (session_id, state) VALUES (${uuidLiteral(sessionId)}, 'loaded')
     ON CONFLICT (session_id) DO NOTHING RETURNING session_id`,
  )) as unknown as pg.QueryResult[];
  if (results[1]?.rowCount === 1) return null;
  await client.query('ROLLBACK');
  const { rows } = await client.query<{ state: 'loaded' | 'destroyed'; rows: Record<string, TableResult> }>(
    'SELECT state, rows FROM demo_seed.session_loads WHERE session_id = $1',
    [sessionId],
  );
  const row = rows[0];
  if (!row) throw new Error(`load marker of session ${sessionId} vanished while being read`);
  return row.state === 'destroyed' ? { state: 'destroyed' } : { state: 'loaded', tables: row.rows };
}

/** Records what the load wrote and commits, in one round trip. */
export async function commitLoad(client: pg.PoolClient, sessionId: string, tables: Record<string, TableResult>): Promise<void> {
  await client.query(
    `UPDATE demo_seed.session_loads SET rows = ${client.escapeLiteral(JSON.stringify(tables))}::jsonb, updated_at = now()
     WHERE session_id = ${uuidLiteral(sessionId)}; COMMIT`,
  );
}

function uuidLiteral(id: string): string {
  if (!UUID_RE.test(id)) throw new Error(`not a uuid: ${JSON.stringify(id)}`);
  return `'${id}'::uuid`;
}

/**
 * Turns the marker into a tombstone inside the caller's transaction: a load that
 * has not committed yet is waited for, and a late load will find the tombstone.
 */
export async function tombstoneLoad(client: pg.PoolClient, sessionId: string): Promise<void> {
  await client.query(
    `INSERT INTO demo_seed.session_loads (session_id, state) VALUES ($1, 'destroyed')
     ON CONFLICT (session_id) DO UPDATE SET state = 'destroyed', rows = '{}'::jsonb, updated_at = now()`,
    [sessionId],
  );
}

/** Tombstones only need to outlive any job that could still run for their session. */
export async function purgeOldTombstones(client: pg.PoolClient | pg.Pool, olderThanSeconds: number): Promise<number> {
  const res = await client.query(
    `DELETE FROM demo_seed.session_loads WHERE state = 'destroyed' AND updated_at < now() - make_interval(secs => $1)`,
    [olderThanSeconds],
  );
  return res.rowCount ?? 0;
}
