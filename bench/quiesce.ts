import type pg from 'pg';

/**
 * Leaves the server nothing of earlier phases to do before a measurement: dirty
 * buffers written (CHECKPOINT) and no autovacuum worker running (up to 60 s). What the
 * measured load itself leaves to do later (its checkpoint, its vacuum) is not counted.
 */
export async function quiesce(db: pg.Pool | pg.Client): Promise<void> {
  await db.query('CHECKPOINT');
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'`,
    );
    if ((rows[0]?.n ?? 0) === 0) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}
