import type pg from 'pg';
import type { PhaseSummary, ServiceJobResult } from '../../flows/jobs.ts';
import { emailMailbox } from '../../shared/mailbox.ts';

/** Session records in bakery_demo_session: one named function per statement. */
export const SESSION_STATUSES = [
  'pending',
  'loading',
  'ready',
  'failed',
  'destroying',
  'destroyed',
  'expired',
] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];
export const LIVE_STATUSES: readonly SessionStatus[] = ['pending', 'loading', 'ready'];

export interface SessionRecord {
  session_id: string;
  status: SessionStatus;
  demo_account_type: string;
  email: string | null;
  /** The email's mailbox, as the per-email cap counts it (emailMailbox()). */
  email_mailbox: string | null;
  subscription_tier: string | null;
  tenant_id: string;
  tenant_ids: string[];
  created_at: Date;
  expires_at: Date;
  ready_at: Date | null;
  duration_ms: number | null;
  error: string | null;
  services: Partial<Record<string, ServiceJobResult>>;
  phases: Partial<Record<string, PhaseSummary>>;
  updated_at: Date;
  /** Seed-data root the session was created from (to rebuild a lost flow). */
  data_dir: string | null;
  /** How a session being destroyed will end. */
  ending: 'destroyed' | 'expired' | null;
  /** QUEUE_PREFIX of the deployment that created it. */
  queue_prefix: string | null;
  /** The client's Idempotency-Key, and a hash of the request it came with. */
  idempotency_key: string | null;
  request_fingerprint: string | null;
  /** The OpenTelemetry trace of the POST that created it; null when tracing is off. */
  trace_id: string | null;
}

/** What a new session's record is made of. */
export type NewSession = Pick<
  SessionRecord,
  | 'session_id'
  | 'demo_account_type'
  | 'email'
  | 'subscription_tier'
  | 'tenant_id'
  | 'tenant_ids'
  | 'created_at'
  | 'expires_at'
  | 'data_dir'
  | 'queue_prefix'
> &
  Partial<Pick<SessionRecord, 'idempotency_key' | 'request_fingerprint' | 'trace_id'>>;

/** Inserts a pending session; undefined when its idempotency key is taken already (nothing inserted). */
export async function insertSession(db: pg.Pool | pg.PoolClient, s: NewSession): Promise<SessionRecord | undefined> {
  const { rows } = await db.query<SessionRecord>(
    `INSERT INTO demo_sessions (session_id, status, demo_account_type, email, email_mailbox, subscription_tier, tenant_id, tenant_ids, created_at, expires_at, data_dir, queue_prefix, idempotency_key, request_fingerprint, trace_id)
     VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
     ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING *`,
    [
      s.session_id,
      s.demo_account_type,
      s.email,
      s.email === null ? null : emailMailbox(s.email),
      s.subscription_tier,
      s.tenant_id,
      s.tenant_ids,
      s.created_at,
      s.expires_at,
      s.data_dir,
      s.queue_prefix,
      s.idempotency_key ?? null,
      s.request_fingerprint ?? null,
      s.trace_id ?? null,
    ],
  );
  return rows[0];
}

/** Live (pending, loading, ready and not yet past its TTL) sessions of one mailbox (emailMailbox()). */
export async function countLiveForMailbox(db: pg.Pool | pg.PoolClient, mailbox: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM demo_sessions WHERE email_mailbox = $1 AND status = ANY($2::text[]) AND expires_at > now()`,
    [mailbox, LIVE_STATUSES],
  );
  return rows[0]?.n ?? 0;
}

/** What insertSessionWithinCap() did. */
export type CappedInsert =
  | { readonly inserted: SessionRecord }
  /** The idempotency key made a session already: nothing inserted. */
  | { readonly keyTaken: true }
  /** The mailbox holds `live` live sessions, the cap: nothing inserted. */
  | { readonly capReached: number };

/**
 * Inserts a pending session unless its email's mailbox already holds `max` live ones,
 * in one transaction: an advisory lock of the mailbox (held to the commit), the count,
 * the insert. So every API replica and process counts against the one cap: two
 * inserts for a mailbox cannot both pass a count that has not seen the other (each
 * count runs after the previous holder's commit, READ COMMITTED). A session already
 * made under the same idempotency key is found first, so a replay is never refused.
 */
export async function insertSessionWithinCap(
  db: pg.Pool,
  s: NewSession & { email: string },
  max: number,
): Promise<CappedInsert> {
  const mailbox = emailMailbox(s.email);
  const client = await db.connect();
  let broken: Error | undefined;
  try {
    try {
      await client.query('BEGIN');
      await client.query("SELECT pg_advisory_xact_lock(hashtext('demo-seed:email:' || $1::text))", [mailbox]);
      if (s.idempotency_key && (await findByIdempotencyKey(client, s.idempotency_key))) {
        await client.query('ROLLBACK');
        return { keyTaken: true };
      }
      const live = await countLiveForMailbox(client, mailbox);
      if (live >= max) {
        await client.query('ROLLBACK');
        return { capReached: live };
      }
      const record = await insertSession(client, s);
      await client.query(record ? 'COMMIT' : 'ROLLBACK');
      return record ? { inserted: record } : { keyTaken: true };
    } catch (err) {
      await client.query('ROLLBACK').catch((e: unknown) => (broken = e as Error));
      throw err;
    }
  } finally {
    // A connection whose ROLLBACK failed is not given back to the pool.
    client.release(broken);
  }
}

export async function findByIdempotencyKey(
  db: pg.Pool | pg.PoolClient,
  key: string,
): Promise<SessionRecord | undefined> {
  const { rows } = await db.query<SessionRecord>('SELECT * FROM demo_sessions WHERE idempotency_key = $1', [key]);
  return rows[0];
}

/** A session whose flow could not be enqueued: failed, and its idempotency key free again (its POST was not answered 202). */
export async function markEnqueueFailed(db: pg.Pool, sessionId: string, error: string): Promise<void> {
  await db.query(
    `UPDATE demo_sessions SET status = 'failed', error = $2, idempotency_key = NULL, updated_at = now() WHERE session_id = $1 AND status = 'pending'`,
    [sessionId, error],
  );
}

export async function getSession(db: pg.Pool, sessionId: string): Promise<SessionRecord | undefined> {
  const { rows } = await db.query<SessionRecord>('SELECT * FROM demo_sessions WHERE session_id = $1', [sessionId]);
  return rows[0];
}

/** Marks a loading session ready; a session being destroyed meanwhile is left alone. Returns whether it moved. */
export async function markReady(
  db: pg.Pool,
  sessionId: string,
  r: {
    readyAt: Date;
    durationMs: number;
    services: Record<string, ServiceJobResult>;
    phases: Record<string, PhaseSummary>;
  },
): Promise<boolean> {
  const res = await db.query(
    `UPDATE demo_sessions SET status = 'ready', ready_at = $2, duration_ms = $3, services = $4, phases = $5, error = NULL, updated_at = now()
     WHERE session_id = $1 AND status IN ('pending', 'loading')`,
    [sessionId, r.readyAt, r.durationMs, JSON.stringify(r.services), JSON.stringify(r.phases)],
  );
  return res.rowCount === 1;
}

export async function markFailed(
  db: pg.Pool,
  sessionId: string,
  error: string,
  services: Record<string, ServiceJobResult>,
): Promise<boolean> {
  const res = await db.query(
    `UPDATE demo_sessions SET status = 'failed', error = $2, services = $3, updated_at = now()
     WHERE session_id = $1 AND status IN ('pending', 'loading')`,
    [sessionId, error, JSON.stringify(services)],
  );
  return res.rowCount === 1;
}

/** Moves a session to destroying unless it is already gone; returns the record as it now is. */
export async function markDestroying(
  db: pg.Pool,
  sessionId: string,
  ending: 'destroyed' | 'expired' = 'destroyed',
): Promise<SessionRecord | undefined> {
  const { rows } = await db.query<SessionRecord>(
    `UPDATE demo_sessions SET status = 'destroying', ending = COALESCE(ending, $2), updated_at = now()
     WHERE session_id = $1 AND status NOT IN ('destroyed', 'expired') RETURNING *`,
    [sessionId, ending],
  );
  return rows[0] ?? (await getSession(db, sessionId));
}

export async function markGone(db: pg.Pool, sessionId: string, status: 'destroyed' | 'expired'): Promise<void> {
  await db.query(`UPDATE demo_sessions SET status = $2, updated_at = now() WHERE session_id = $1`, [sessionId, status]);
}

/** Where the reconciler's walk through the live sessions stands (the last session id it checked). */
export type ReconcileCursor = string | null;

/** What the reconciler needs of a session: not its services and phases, the bulk of a ready record. */
export type ReconcileRecord = Pick<
  SessionRecord,
  | 'session_id'
  | 'status'
  | 'demo_account_type'
  | 'tenant_ids'
  | 'created_at'
  | 'expires_at'
  | 'updated_at'
  | 'data_dir'
  | 'ending'
  | 'subscription_tier'
>;
const RECONCILE_COLUMNS =
  'session_id, status, demo_account_type, tenant_ids, created_at, expires_at, updated_at, data_dir, ending, subscription_tier';

/**
 * Sessions the reconciler looks after, in one round trip, each at most once:
 * - every unfinished one (pending, loading, destroying), oldest change first, up to `limit`:
 *   they are few, and each must be looked at on every run (a load timing out, a lost flow);
 * - the next `page` live ones (ready, failed) after `after` in session id order, whose expiry
 *   job must exist: a walk through all of them, one page a run, however many are live;
 * - live ones overdue (past expires_at by `overdueMs`), whose expiry was evidently lost.
 * `next` is where the walk goes on from (null: from the start again).
 */
export async function sessionsToReconcile(
  db: pg.Pool,
  queuePrefix: string,
  opts: { limit: number; page: number; after: ReconcileCursor; overdueMs: number },
): Promise<{ sessions: ReconcileRecord[]; next: ReconcileCursor }> {
  const { rows } = await db.query<ReconcileRecord & { part: number }>(
    `(SELECT 1 AS part, ${RECONCILE_COLUMNS} FROM demo_sessions WHERE status IN ('pending', 'loading', 'destroying')
        AND (queue_prefix = $1 OR queue_prefix IS NULL) ORDER BY updated_at LIMIT $2)
     UNION ALL
     (SELECT 2 AS part, ${RECONCILE_COLUMNS} FROM demo_sessions WHERE status IN ('ready', 'failed')
        AND (queue_prefix = $1 OR queue_prefix IS NULL) AND session_id > COALESCE($4::uuid, '00000000-0000-0000-0000-000000000000')
        ORDER BY session_id LIMIT $3)
     UNION ALL
     (SELECT 3 AS part, ${RECONCILE_COLUMNS} FROM demo_sessions WHERE status IN ('ready', 'failed')
        AND (queue_prefix = $1 OR queue_prefix IS NULL) AND expires_at < now() - make_interval(secs => $5 / 1000.0)
        ORDER BY expires_at LIMIT $2)`,
    [queuePrefix, opts.limit, opts.page, opts.after, opts.overdueMs],
  );
  const pageRows = rows.filter((r) => r.part === 2);
  const unique = new Map<string, ReconcileRecord>();
  for (const { part, ...r } of rows) if (!unique.has(r.session_id)) unique.set(r.session_id, r);
  return {
    sessions: [...unique.values()],
    next: pageRows.length === opts.page ? (pageRows.at(-1)?.session_id ?? null) : null,
  };
}
