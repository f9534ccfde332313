import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { SERVICES, WAVES, type ServiceName } from '../src/catalog/services.ts';
import { TABLES, type EntityName } from '../src/catalog/tables.ts';
import { copyRows } from '../src/db/copy.ts';
import { Databases } from '../src/db/pools.ts';
import { beginLoad, commitLoad } from '../src/db/sql/session-loads.ts';
import type { TableResult } from '../src/flows/jobs.ts';
import { loadProfile, serviceTables } from '../src/seed/profile.ts';
import { transformContext } from '../src/seed/session-context.ts';
import { compileTable } from '../src/seed/transform.ts';
import { encodeSegments } from '../src/workers/service-job.ts';
import { postgresCpuMs, processCpuMs } from './cpu.ts';
import { quiesce } from './quiesce.ts';
import { ratePerSecond } from './stats.ts';
import type { World } from './world.ts';

/**
 * The floor PostgreSQL puts under a session: the statements every service load must
 * run (per service database: BEGIN and the load marker, one COPY per table, the
 * marker's update and COMMIT), issued straight from this process with the worker's
 * own code, without BullMQ, Redis, the API or the session record. What the
 * PostgreSQL server spends on them per session bounds the sessions per second the
 * machine can reach, whatever the rest of the system costs. It runs first, on the
 * world's new databases, and empties them afterwards.
 */
export interface PostgresFloor {
  readonly profile: string;
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
export async function measurePostgresFloor(world: World, opts: { profile: string; sessions: number; concurrency: number }): Promise<PostgresFloor> {
  const dbs = new Databases(world.cfg);
  try {
    return await measure(world, dbs, opts);
  } finally {
    await dbs.close();
  }
}

async function measure(world: World, dbs: Databases, opts: { profile: string; sessions: number; concurrency: number }): Promise<PostgresFloor> {
  const profile = await loadProfile(path.resolve(world.cfg.SEED_DATA_DIR), opts.profile);
  const loadOne = async () => {
    const sessionId = randomUUID();
    const createdAt = new Date().toISOString();
    const maps = new Map<EntityName, Map<string, string>>();
    for (const wave of WAVES) {
      await Promise.all(
        wave.map(async (service: ServiceName) => {
          const { ctx, local } = transformContext(profile, sessionId, createdAt, service, maps);
          const client = await dbs.pool(service).connect();
          try {
            if ((await beginLoad(client, sessionId)) !== null) throw new Error(`floor: session ${sessionId} was loaded twice`);
            const tables: Record<string, TableResult> = {};
            for (const { spec, segments } of serviceTables(profile, service)) {
              const rows = await copyRows(client, spec.name, Object.keys(spec.columns), encodeSegments(segments, compileTable(spec, ctx, local.get(`${service}.${spec.name}`))));
              tables[spec.name] = { rows, duration_ms: 0 };
            }
            await commitLoad(client, sessionId, tables);
            client.release();
          } catch (err) {
            client.release(true);
            throw err;
          }
          for (const [e, m] of local) maps.set(e, m);
        }),
      );
    }
  };
  // Warm-up: connections, plans, profile files.
  for (let i = 0; i < 4; i++) await loadOne();
  await quiesce(world.rt.dbs.pool('demo_session'));
  const pg0 = await postgresCpuMs();
  const me0 = await processCpuMs(process.pid);
  const t0 = performance.now();
  let started = 0;
  const slot = async () => {
    while (started < opts.sessions) {
      started++;
      await loadOne();
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, slot));
  const elapsed = performance.now() - t0;
  const pgMs = ((await postgresCpuMs()) - pg0) / opts.sessions;
  const meMs = ((await processCpuMs(process.pid)) - me0) / opts.sessions;
  await emptyServiceTables(dbs);
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return {
    profile: opts.profile,
    sessions: opts.sessions,
    concurrency: opts.concurrency,
    elapsed_ms: Math.round(elapsed),
    per_second: ratePerSecond(opts.sessions, elapsed),
    postgres_cpu_ms: r1(pgMs),
    client_cpu_ms: r1(meMs),
  };
}
