import { UnrecoverableError, type FlowProducer, type Job } from 'bullmq';
import type { PoolClient } from 'pg';
import { dependenciesDone, dependentsOf, type ServiceName } from '../catalog/services.ts';
import { publishedEntities, consumedEntities, splitEntity, type EntityName } from '../catalog/tables.ts';
import { copyRows, copyTables, type CopyTableResult } from '../db/copy.ts';
import { claimLoadSql, commitLoadSql, earlierLoad, isClaimTaken, type LoadState } from '../db/sql/session-loads.ts';
import { serviceJobs } from '../flows/build-flow.ts';
import type { ServiceJobData, ServiceJobResult, TableResult } from '../flows/jobs.ts';
import { serviceJobId } from '../flows/options.ts';
import { serviceLoadedEntry } from '../flows/session-events.ts';
import type { ProgressEntry } from '../redis/id-maps.ts';
import { SeedDataError } from '../seed/errors.ts';
import { idMapperFor } from '../seed/ids.ts';
import { segmentRecords, serviceTables, type LoadedProfile } from '../seed/profile.ts';
import { sessionTenantIds, transformContext } from '../load/session-context.ts';
import { inMemoryText, streamedText } from '../load/segments.ts';
import type { TransformContext } from '../load/transform.ts';
import type { WorkerContext } from '../runtime/context.ts';

/**
 * Loads one service's tables for a session: reads the ID maps it needs, rewrites
 * every record, COPYs every table in one transaction, publishes its own ID maps, then
 * starts the services whose dependencies it completed. Exactly one copy of the rows
 * results however often, and however concurrently, it runs: the transaction first
 * claims the session's load marker.
 */
export async function loadService(
  job: Job<ServiceJobData, ServiceJobResult>,
  w: WorkerContext,
  flows: FlowProducer,
): Promise<ServiceJobResult> {
  const d = job.data;
  const started = Date.now();
  const log = w.log.child({
    session_id: d.sessionId,
    service: d.service,
    phase: d.phase,
    job_id: job.id,
    attempt: job.attemptsMade + 1,
  });
  const profile = await w.profiles.get(d.dataDir, d.profile).catch(asUnrecoverable);
  const skipFkChecks = await w.dbs.loadSkipsFkChecks(d.service);
  const client = await w.dbs.pool(d.service).connect();
  let tables: Record<string, TableResult> = {};
  let alreadyLoaded = false;
  let local: Map<EntityName, Map<string, string>>;
  try {
    const remote = await w.idMaps.read(
      d.sessionId,
      consumedEntities(d.service),
      progress(d, { status: 'loading', started_at: started, attempt: job.attemptsMade + 1 }),
    );
    checkRemoteMaps(profile, d, remote);
    const transform = transformContext(profile, d.sessionId, d.createdAt, d.service, remote, {
      emailDomain: w.cfg.DEMO_EMAIL_DOMAIN,
      subscriptionTier: d.subscriptionTier,
    });
    local = transform.local;
    // The transaction and its claim travel with the first COPYs, COMMIT with the last:
    // for tables held in memory, one round trip in all.
    let earlier: LoadState | undefined;
    try {
      tables = await loadTables(client, profile, d.service, transform.ctx, local, {
        // The marker records the session's tenants: a cleanup deletes only those (deleteTenantRows).
        open: (rows) =>
          claimLoadSql(d.sessionId, rows, { skipFkChecks, tenantIds: sessionTenantIds(profile, d.sessionId) }),
        close: (rows) => commitLoadSql(d.sessionId, rows),
      });
    } catch (err) {
      if (!isClaimTaken(err)) throw err;
      earlier = await earlierLoad(client, d.sessionId);
    }
    if (earlier?.state === 'destroyed') {
      throw new UnrecoverableError(`session ${d.sessionId} was destroyed; ${d.service} loads nothing`);
    }
    if (earlier) {
      // An earlier run committed: this one reports its rows, and spent no time on them.
      alreadyLoaded = true;
      tables = Object.fromEntries(
        Object.entries(earlier.rows).map(([table, rows]) => [table, { rows, duration_ms: 0 }]),
      );
      await collectIds(profile, d, local);
    }
    client.release();
  } catch (err) {
    // The connection may be mid-COPY or mid-transaction: never hand it back to the pool.
    client.release(true);
    throw err instanceof SeedDataError ? new UnrecoverableError(err.message) : err;
  }

  // Once committed: a service is never published as ready before its rows are in.
  const publishedAt = Date.now();
  const published = await publishMaps(w, d, local, tables, started, job.attemptsMade + 1);
  const finished = Date.now();
  const rows = Object.values(tables).reduce((n, t) => n + t.rows, 0);
  const result: ServiceJobResult = {
    service: d.service,
    phase: d.phase,
    wave: d.wave,
    rows,
    tables,
    duration_ms: finished - started,
    queued_at: job.timestamp,
    started_at: started,
    finished_at: finished,
    published_at: publishedAt,
    attempts: job.attemptsMade + 1,
    already_loaded: alreadyLoaded,
  };
  const next = await startDependents(job, w, flows, published);
  log.info(
    { rows, duration_ms: result.duration_ms, tables, already_loaded: alreadyLoaded, started: next },
    `service ${d.service} loaded`,
  );
  return result;
}

/**
 * COPYs the service's tables in load order, between `sql.open` (which opens the
 * load's transaction) and `sql.close` (which commits it), in as few round trips as it
 * can. Tables whose text is in memory go together in one Query (copyTables); a table
 * read as a stream (NDJSON, or more than JSON_BATCH records) is COPYed on its own,
 * after the ones before it. The rows per table go to `open` when the whole load is
 * one Query, else to `close`. A table's duration is its encoding plus its part of the
 * COPY. Resolves once committed.
 */
export async function loadTables(
  client: PoolClient,
  profile: LoadedProfile,
  service: ServiceName,
  ctx: TransformContext,
  local: ReadonlyMap<EntityName, Map<string, string>>,
  sql: {
    open: (rows?: Readonly<Record<string, number>>) => string;
    close: (rows?: Readonly<Record<string, number>>) => string;
  },
): Promise<Record<string, TableResult>> {
  const tables: Record<string, TableResult> = {};
  /** Rows per table: sent (in memory, counted as encoded) or copied (streamed). */
  const rows: Record<string, number> = {};
  let pending: { table: string; columns: string[]; text: string | Buffer; encodeMs: number }[] = [];
  let opened = false;
  const flush = async (final: boolean) => {
    const first = opened ? undefined : sql.open(final ? rows : undefined);
    const last = final ? sql.close(opened ? rows : undefined) : undefined;
    opened = true;
    const copied = await copyTables(client, pending, { first, last });
    pending.forEach((t, i) => {
      const r = copied[i] as CopyTableResult;
      if (r.rows !== rows[t.table])
        throw new Error(`COPY ${service}.${t.table}: PostgreSQL took ${r.rows} rows of the ${rows[t.table]} sent`);
      tables[t.table] = { rows: r.rows, duration_ms: round(t.encodeMs + r.ms) };
    });
    pending = [];
  };
  for (const { spec, segments } of serviceTables(profile, service)) {
    const t0 = performance.now();
    const collect = local.get(`${service}.${spec.name}`);
    const columns = Object.keys(spec.columns);
    const inMemory = inMemoryText(profile, spec, segments, ctx, collect);
    if (inMemory) {
      rows[spec.name] = inMemory.records;
      pending.push({ table: spec.name, columns, text: inMemory.text, encodeMs: performance.now() - t0 });
      continue;
    }
    await flush(false);
    const copied = await copyRows(client, spec.name, columns, streamedText(segments, spec, ctx, collect));
    rows[spec.name] = copied;
    tables[spec.name] = { rows: copied, duration_ms: round(performance.now() - t0) };
  }
  await flush(true);
  return tables;
}

type Published = Awaited<ReturnType<WorkerContext['idMaps']['publish']>>;

/**
 * Adds, as children of the session job, the services that depend on this one and
 * whose other dependencies have published too, so each starts as soon as its last
 * dependency is done. Only the run that first published this service does it (so a
 * retry never adds again a service that may since have failed for good), and of two
 * dependencies finishing at once the later one sees both. Adding is a head start,
 * not a duty: should it fail, the session job adds what is ready once its running
 * children are done.
 */
async function startDependents(
  job: Job<ServiceJobData, ServiceJobResult>,
  w: WorkerContext,
  flows: FlowProducer,
  published: Published,
): Promise<string[]> {
  const d = job.data;
  const parent = job.parent;
  if (!published.first || parent?.id === undefined) return [];
  const ready = dependentsOf(d.service).filter((s) => dependenciesDone(s, published.loaded));
  if (ready.length === 0) return [];
  try {
    await flows.addBulk(serviceJobs(w.cfg, d, ready, { id: parent.id, queue: parent.queueKey }));
    return ready;
  } catch (err) {
    w.log.warn(
      { session_id: d.sessionId, service: d.service, dependents: ready, err: (err as Error).message },
      'could not start dependent services; the session job will',
    );
    return [];
  }
}

/**
 * Publishes the ID maps this service owns, with its `ready` progress, marks it loaded
 * and tells the API's event stream (`service-loaded`), in one round trip.
 */
async function publishMaps(
  w: WorkerContext,
  d: ServiceJobData,
  local: ReadonlyMap<EntityName, Map<string, string>>,
  tables: Record<string, TableResult>,
  started: number,
  attempt: number,
): Promise<Published> {
  const maps = new Map<EntityName, Map<string, string>>();
  for (const e of publishedEntities(d.service)) maps.set(e, local.get(e) ?? new Map());
  const rows = Object.values(tables).reduce((n, t) => n + t.rows, 0);
  return w.idMaps.publish(
    d.sessionId,
    maps,
    d.ttlSeconds,
    progress(d, { status: 'ready', rows, duration_ms: Date.now() - started, tables, attempt }),
    serviceLoadedEntry(w.cfg.QUEUE_PREFIX, { jobId: serviceJobId(d.sessionId, d.service), service: d.service }),
  );
}

/** After a committed run, the new ids are recomputed (they are deterministic) to publish the maps again. */
async function collectIds(
  profile: LoadedProfile,
  d: ServiceJobData,
  local: Map<EntityName, Map<string, string>>,
): Promise<void> {
  const mapId = idMapperFor(d.sessionId);
  for (const [entity, map] of local) {
    for (const seg of profile.segments.get(entity) ?? []) {
      for await (const rec of segmentRecords(seg)) map.set(rec.id as string, mapId(rec.id as string));
    }
  }
}

/** A dependency that loaded rows must have published their ids; else the flow is broken (e.g. Redis lost them). */
function checkRemoteMaps(
  profile: LoadedProfile,
  d: ServiceJobData,
  remote: ReadonlyMap<EntityName, ReadonlyMap<string, string>>,
): void {
  for (const [entity, map] of remote) {
    if (map.size === 0 && (profile.segments.get(entity)?.length ?? 0) > 0) {
      throw new UnrecoverableError(
        `ID map ${entity} of session ${d.sessionId} is missing from Redis: ${splitEntity(entity).service} has not published it (were its keys lost?)`,
      );
    }
  }
}

function progress(d: ServiceJobData, value: Record<string, unknown>): ProgressEntry {
  return { service: d.service, value, ttlSeconds: d.ttlSeconds };
}

function asUnrecoverable(err: unknown): never {
  throw err instanceof SeedDataError ? new UnrecoverableError(err.message) : err;
}

const round = (ms: number) => Math.round(ms * 100) / 100;
