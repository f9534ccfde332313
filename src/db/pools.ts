import pg from 'pg';
import { DATABASE_KEYS, type DatabaseKey } from '../catalog/services.ts';
import { databaseUrl, type Config } from '../config/env.ts';

// numeric and int8 come back as strings (pg's default), and date too (set here): a
// date is a day, not an instant, so no time zone can shift it; timestamptz stays a Date.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

/** One pg.Pool per database, created on first use. */
export class Databases {
  private readonly pools = new Map<DatabaseKey, pg.Pool>();

  constructor(private readonly cfg: Config) {}

  pool(key: DatabaseKey): pg.Pool {
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new pg.Pool({
        connectionString: databaseUrl(this.cfg, key),
        max: this.cfg.PG_POOL_SIZE,
        idleTimeoutMillis: 30_000,
        connectionTimeoutMillis: 10_000,
        application_name: `demo-seed:${key}`,
        // A worker frozen mid-transaction (a lost lock, a paused process) must not hold
        // the session's load marker, or block a cleanup, for ever: PostgreSQL ends it.
        options: '-c idle_in_transaction_session_timeout=60000 -c lock_timeout=60000',
      });
      // A client that loses its server must not crash the process: idle ones are
      // reported on the pool, checked-out ones on themselves (between two statements,
      // mid-COPY). The query in flight, or the next, then fails and its job is retried.
      pool.on('error', () => undefined);
      pool.on('connect', (client) => client.on('error', () => undefined));
      this.pools.set(key, pool);
    }
    return pool;
  }

  /**
   * Whether loads into this database skip the per-row foreign-key checks
   * (LOAD_FK_CHECKS=skip and the role may set session_replication_role). Asked once
   * per database; an error (the database unreachable) is not remembered.
   */
  loadSkipsFkChecks(key: DatabaseKey): Promise<boolean> {
    if (this.cfg.LOAD_FK_CHECKS === 'run') return Promise.resolve(false);
    let answer = this.skipsFkChecks.get(key);
    if (!answer) {
      answer = mayReplicate(this.pool(key));
      this.skipsFkChecks.set(key, answer);
      answer.catch(() => this.skipsFkChecks.delete(key));
    }
    return answer;
  }

  private readonly skipsFkChecks = new Map<DatabaseKey, Promise<boolean>>();

  /** Checks that the databases (all by default) answer; returns the ones that don't. */
  async unreachable(keys: readonly DatabaseKey[] = DATABASE_KEYS): Promise<{ database: DatabaseKey; error: string }[]> {
    const results = await Promise.all(
      keys.map(async (key) => {
        try {
          await this.pool(key).query('SELECT 1');
          return null;
        } catch (err) {
          return { database: key, error: (err as Error).message };
        }
      }),
    );
    return results.filter((r): r is { database: DatabaseKey; error: string } => r !== null);
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  }
}

/** May this connection's role set session_replication_role (superuser, or PostgreSQL 15's GRANT SET ON PARAMETER)? */
async function mayReplicate(pool: pg.Pool): Promise<boolean> {
  try {
    const { rows } = await pool.query<{ ok: boolean }>(
      "SELECT has_parameter_privilege('session_replication_role', 'SET') AS ok",
    );
    return rows[0]?.ok === true;
  } catch (err) {
    if ((err as { code?: string }).code !== '42883') throw err; // before PostgreSQL 15: no such function
    const { rows } = await pool.query<{ ok: boolean }>(
      'SELECT rolsuper AS ok FROM pg_roles WHERE rolname = current_user',
    );
    return rows[0]?.ok === true;
  }
}
