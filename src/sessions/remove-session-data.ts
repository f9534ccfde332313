import { WAVES, type ServiceName } from '../catalog/services.ts';
import { TABLES } from '../catalog/tables.ts';
import { purgeOldTombstones, tombstoneLoad } from '../db/sql/session-loads.ts';
import { deleteTenantRows } from '../db/sql/session-rows.ts';
import { SESSION_QUEUE } from '../flows/jobs.ts';
import { createQueue } from '../flows/queues.ts';
import type { SessionRecord } from '../db/sql/sessions.ts';
import { sessionKeys } from '../redis/keys.ts';
import type { WorkerContext } from '../runtime/context.ts';
import { expireJobId } from '../flows/options.ts';

/** Tombstones outlive any job of their session by far: jobs retry within minutes. */
const TOMBSTONE_SECONDS = 24 * 3600;
/** Old tombstones are purged at most once an hour per database and process. */
const lastPurge = new Map<ServiceName, number>();

/**
 * The session whose rows go, as its record in bakery_demo_session names it: never a
 * job's data or a request (their tenant ids are not to be trusted).
 */
export type SessionTenants = Pick<SessionRecord, 'session_id' | 'tenant_ids'>;

/**
 * Removes every row of a session's tenants from the 11 service databases, in
 * reverse dependency order, then its Redis keys. Safe to run again; returns rows
 * deleted per service. (The cleanup flow does the same one service job at a time.)
 */
export async function removeSessionData(
  w: WorkerContext,
  session: SessionTenants,
): Promise<Record<ServiceName, number>> {
  const deleted = {} as Record<ServiceName, number>;
  for (const wave of [...WAVES].reverse()) {
    await Promise.all(
      wave.map(async (service) => {
        deleted[service] = await removeFromService(w, service, session);
      }),
    );
  }
  await removeSessionKeys(w, session.session_id);
  return deleted;
}

/**
 * Cleans one service database in one transaction that also leaves a tombstone, so
 * a load still running elsewhere either commits first (and its rows are deleted
 * here) or finds the tombstone and loads nothing. Tables go children first. Only
 * tenants that both the session's record and this database's load marker of the
 * session name lose rows (deleteTenantRows).
 */
export async function removeFromService(
  w: WorkerContext,
  service: ServiceName,
  session: SessionTenants,
): Promise<number> {
  const sessionId = session.session_id;
  const client = await w.dbs.pool(service).connect();
  let n = 0;
  try {
    await client.query('BEGIN');
    await tombstoneLoad(client, sessionId);
    for (const table of [...TABLES[service]].reverse())
      n += await deleteTenantRows(client, table, sessionId, session.tenant_ids);
    await client.query('COMMIT');
    client.release();
  } catch (err) {
    client.release(true);
    throw new Error(`removing session ${sessionId} from ${service} failed: ${(err as Error).message}`);
  }
  if (Date.now() - (lastPurge.get(service) ?? 0) > 3600_000) {
    lastPurge.set(service, Date.now());
    await purgeOldTombstones(w.dbs.pool(service), TOMBSTONE_SECONDS).catch(() => undefined);
  }
  return n;
}

/**
 * Removes the session's ID maps and progress, its finished load jobs (their data
 * and results name the session's tenants) and its pending expiry. A job still
 * running is left to its own removeOnComplete.
 */
export async function removeSessionKeys(w: WorkerContext, sessionId: string): Promise<void> {
  await w.redis.del(...sessionKeys(w.cfg.QUEUE_PREFIX, sessionId));
  const queue = createQueue(w.cfg, w.queueRedis, SESSION_QUEUE);
  try {
    const job = await queue.getJob(sessionId);
    if (job && ((await job.isCompleted()) || (await job.isFailed()))) await job.remove({ removeChildren: true });
    // The pending expiry has nothing left to do.
    const expire = await queue.getJob(expireJobId(sessionId));
    if (expire && (await expire.isDelayed())) await expire.remove();
  } catch (err) {
    w.log.warn(
      { session_id: sessionId, err: (err as Error).message },
      'could not remove the session flow jobs; they expire on their own',
    );
  } finally {
    await queue.close();
  }
}
