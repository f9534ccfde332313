import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { SERVICES, SERVICE_SPECS, WAVES, type ServiceName } from '../src/catalog/services.ts';
import { TABLES, type EntityName } from '../src/catalog/tables.ts';
import { Databases } from '../src/db/pools.ts';
import { claimLoadSql, commitLoadSql } from '../src/db/sql/session-loads.ts';
import { loadProfile, type LoadedProfile } from '../src/seed/profile.ts';
import { transformContext } from '../src/load/session-context.ts';
import { loadTables } from '../src/workers/service-job.ts';
import { closedLoop, fastest } from './closed-loop.ts';
import { postgresCpuMs, processCpuMs } from './cpu.ts';
import { quiesce } from './quiesce.ts';
import type { World } from './world.ts';

/**
 * The floor PostgreSQL puts under a session: the statements every service load must
 * run (per service database, in one Query as the worker sends it: BEGIN and the load
 * marker with its row counts, its tables' COPYs and COMMIT), issued straight from
 * this process with the worker's own code, without BullMQ, Redis, the API or the
 * session record. What the PostgreSQL server spends on them per session bounds the
 * sessions per second the machine can reach, whatever the rest of the system costs.
 * It runs first, on the world's new databases, and empties them afterwards.
 */
export interface FloorLevel {
  readonly sessions: number;
  readonly concurrency: number;
  readonly elapsed_ms: number;
  /** Sessions per second with nothing but these statements (and this process encoding them). */
  readonly per_second: number;
  /** CPU ms per session of the PostgreSQL server (every postgres process). */
  readonly postgres_cpu_ms: number;
  /** CPU ms per session of this process (encoding the rows, driving pg). */
  readonly client_cpu_ms: number;
}

/** The level with the most sessions per second, its figures at the top; every level in `levels`. */
export interface PostgresFloor extends FloorLevel {
  readonly profile: string;
  readonly levels: FloorLevel[];
}

/** TRUNCATE of every service table and load marker: the floor leaves no rows (and no dead tuples) for the phases after it. */
async function emptyServiceTables(dbs: Databases): Promise<void> {
  await Promise.all(
    SERVICES.map((s) => {
      const tables = [...TABLES[s].map((t) => `"${t.name}"`), 'demo_seed.session_loads'].join(', ');
      return dbs.pool(s).query(`TRUNCATE ${tables}`);
    }),
  );
}

/**
 * Runs on pools of its own, closed at the end: the connections it opened (up to
 * PG_POOL_SIZE per database) must not count against max_connections while the
 * workers run.
 */
export async function measurePostgresFloor(
  world: World,
  opts: { profile: string; sessions: number; concurrencies: readonly number[] },
): Promise<PostgresFloor> {
  const dbs = new Databases(world.cfg);
  try {
    const profile = await loadProfile(path.resolve(world.cfg.SEED_DATA_DIR), opts.profile);
    const loadOne = sessionLoader(dbs, profile);
    // Warm-up at the highest concurrency measured, so every pool has opened all the
    // connections a level will use (a new backend costs PostgreSQL several ms of CPU,
    // which the first level would otherwise be charged), and plans and profile files are warm.
    const most = Math.max(...opts.concurrencies);
    await Promise.all(
      Array.from({ length: most }, async () => {
        await loadOne();
        await loadOne();
      }),
    );
    const levels: FloorLevel[] = [];
    for (const concurrency of opts.concurrencies)
      levels.push(await measureLevel(world, loadOne, opts.sessions, concurrency));
    await emptyServiceTables(dbs);
    const best = fastest(levels);
    return { profile: opts.profile, levels, ...best };
  } finally {
    await dbs.close();
  }
}

/** One session's loads, each service as soon as its dependencies are loaded (as the flow runs them). */
function sessionLoader(dbs: Databases, profile: LoadedProfile): () => Promise<void> {
  return async () => {
    const sessionId = randomUUID();
    const createdAt = new Date().toISOString();
    const maps = new Map<EntityName, Map<string, string>>();
    const loads = new Map<ServiceName, Promise<void>>();
    for (const service of WAVES.flat()) {
      loads.set(
        service,
        Promise.all(SERVICE_SPECS[service].dependsOn.map((d) => loads.get(d))).then(async () => {
          const { ctx, local } = transformContext(profile, sessionId, createdAt, service, maps);
          const skipFkChecks = await dbs.loadSkipsFkChecks(service);
          const client = await dbs.pool(service).connect();
          try {
            await loadTables(client, profile, service, ctx, local, {
              open: (rows) => claimLoadSql(sessionId, rows, { skipFkChecks }),
              close: (rows) => commitLoadSql(sessionId, rows),
            });
            client.release();
          } catch (err) {
            client.release(true);
            throw err;
          }
          for (const [e, m] of local) maps.set(e, m);
        }),
      );
    }
    await Promise.all(loads.values());
  };
}

async function measureLevel(
  world: World,
  loadOne: () => Promise<void>,
  sessions: number,
  concurrency: number,
): Promise<FloorLevel> {
  await quiesce(world.rt.dbs.pool('demo_session'));
  const { cpu_ms, ...run } = await closedLoop(sessions, concurrency, loadOne, {
    postgres: postgresCpuMs,
    client: () => processCpuMs(process.pid),
  });
  return { ...run, postgres_cpu_ms: cpu_ms.postgres, client_cpu_ms: cpu_ms.client };
}
