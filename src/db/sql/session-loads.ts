import pg from 'pg';
import { UUID_RE } from '../../shared/uuid.ts';

/**
 * The load marker of a session in one service database (migrations/common). Each
 * statement is one named function; identifiers never come from input.
 */
export type LoadState = { state: 'loaded'; rows: Record<string, number> } | { state: 'destroyed' };

const { escapeLiteral } = pg;

/**
 * SQL that opens the load's transaction and claims the session's load, for the head
 * of the load's first Query (it travels with the first COPYs: copyTables' `sql.first`),
 * with the rows per table when that Query is the whole load (else commitLoadSql
 * records them). Should an earlier run have claimed it (a load, or a destroyed
 * session's tombstone), the INSERT fails with a unique violation (`isClaimTaken`) and
 * nothing after it runs; `earlierLoad` then reads what that run left. A concurrent
 * run of the same job waits at the INSERT until the first commits or rolls back.
 * The marker records the session's tenants (`tenantIds`): a cleanup deletes only the
 * rows of tenants the session's marker in this database names (deleteTenantRows), so
 * a load that leaves them out leaves rows no cleanup removes.
 * `sessionId` and the tenant ids must be uuids (they are inlined as literals).
 */
export function claimLoadSql(
  sessionId: string,
  rows?: Readonly<Record<string, number>>,
  opts: { tenantIds?: readonly string[]; skipFkChecks?: boolean } = {},
): string {
  const columns = [...(rows ? ['rows'] : []), ...(opts.tenantIds ? ['tenant_ids'] : [])];
  const values = [...(rows ? [rowsLiteral(rows)] : []), ...(opts.tenantIds ? [uuidArrayLiteral(opts.tenantIds)] : [])];
  const [column, value] = [columns.map((c) => `, ${c}`).join(''), values.map((v) => `, ${v}`).join('')];
  // replica: no ordinary triggers for this transaction, so none of the per-row foreign-key
  // checks (much of PostgreSQL's work in a load); unique keys and CHECKs still hold.
  const replica = opts.skipFkChecks ? 'SET LOCAL session_replication_role = replica; ' : '';
  return `BEGIN; ${replica}INSERT INTO demo_seed.session_loads (session_id, state${column}) VALUES (${uuidLiteral(sessionId)}, 'loaded'${value})`;
}

/** The error of a claim an earlier run holds (see claimLoadSql). */
export function isClaimTaken(err: unknown): boolean {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && e.constraint === 'session_loads_pkey';
}

/** After isClaimTaken: rolls the failed transaction back and reads what the earlier run left. */
export async function earlierLoad(client: pg.PoolClient, sessionId: string): Promise<LoadState> {
  await client.query('ROLLBACK');
  const { rows } = await client.query<{ state: 'loaded' | 'destroyed'; rows: Record<string, { rows?: unknown }> }>(
    'SELECT state, rows FROM demo_seed.session_loads WHERE session_id = $1',
    [sessionId],
  );
  const row = rows[0];
  if (!row) throw new Error(`load marker of session ${sessionId} vanished while being read`);
  if (row.state === 'destroyed') return { state: 'destroyed' };
  return {
    state: 'loaded',
    rows: Object.fromEntries(Object.entries(row.rows).map(([table, t]) => [table, Number(t.rows ?? 0)])),
  };
}

/**
 * SQL that commits the load, for the tail of its last Query (copyTables' `sql.last`),
 * so it runs only if every COPY did; first recording the rows per table, when given
 * (the claim could not: the load took more than one Query).
 */
export function commitLoadSql(sessionId: string, rows?: Readonly<Record<string, number>>): string {
  if (!rows) return 'COMMIT';
  return `UPDATE demo_seed.session_loads SET rows = ${rowsLiteral(rows)}, updated_at = now() WHERE session_id = ${uuidLiteral(sessionId)}; COMMIT`;
}

/** The marker's `rows`: `{"<table>": {"rows": n}}`, as a jsonb literal. */
function rowsLiteral(rows: Readonly<Record<string, number>>): string {
  return `${escapeLiteral(JSON.stringify(Object.fromEntries(Object.entries(rows).map(([name, n]) => [name, { rows: n }]))))}::jsonb`;
}

function uuidLiteral(id: string): string {
  if (!UUID_RE.test(id)) throw new Error(`not a uuid: ${JSON.stringify(id)}`);
  return `'${id}'::uuid`;
}

function uuidArrayLiteral(ids: readonly string[]): string {
  for (const id of ids) if (!UUID_RE.test(id)) throw new Error(`not a uuid: ${JSON.stringify(id)}`);
  return `'{${ids.join(',')}}'::uuid[]`;
}

/**
 * Turns the marker into a tombstone inside the caller's transaction: a load that
 * has not committed yet is waited for, and a late load will find the tombstone. The
 * tombstone keeps the tenant ids the load recorded (the deletes that follow in the
 * same transaction match them); one written before any load records none.
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

/**
 * What this database's marker says of a session's load, for a reader (GET of a loading
 * session while Redis, which holds the live progress, does not answer): `loaded` with
 * the rows per table once the load committed, `destroyed` for a tombstone, undefined
 * when no load committed here yet. A plain read: it waits for no lock (a load still
 * running holds its uncommitted marker invisibly); the caller bounds its wait.
 */
export async function loadMarker(pool: pg.Pool, sessionId: string): Promise<LoadState | undefined> {
  const { rows } = await pool.query<{ state: 'loaded' | 'destroyed'; rows: Record<string, { rows?: unknown }> | null }>(
    'SELECT state, rows FROM demo_seed.session_loads WHERE session_id = $1',
    [sessionId],
  );
  const row = rows[0];
  if (!row) return undefined;
  if (row.state === 'destroyed') return { state: 'destroyed' };
  return {
    state: 'loaded',
    rows: Object.fromEntries(Object.entries(row.rows ?? {}).map(([table, t]) => [table, Number(t.rows ?? 0)])),
  };
}
