import { PHASES, servicesOfPhase, type ServiceName } from '../catalog/services.ts';
import { TABLES } from '../catalog/tables.ts';
import { purgeOldTombstones, tombstoneLoad } from '../db/sql/session-loads.ts';
import { deleteTenantRows } from '../db/sql/session-rows.ts';
import { sessionKeys } from '../redis/keys.ts';
import type { WorkerContext } from './context.ts';

/** Tombstones outlive any job of their session by far: jobs retry within minutes. */
const TOMBSTONE_SECONDS = 24 * 3600;
/** Old tombstones are purged at most once an hour per database and process. */
const lastPurge = new Map<ServiceName, number>();

/**
 * Removes every row of a session's tenants from the 11 service databases, in
 * reverse dependency order (phase 4 first, each table before the tables it
 * references), and the session's Redis keys. Each database is cleaned in one
 * transaction that also leaves a tombstone, so a load still running elsewhere
 * either finishes before the delete (and is deleted) or finds the tombstone and
 * loads nothing. Safe to run again; returns rows deleted per service.
 */
export async function removeSessionData(
  w: WorkerContext,
  sessionId: string,
  tenantIds: readonly string[],
): Promise<Record<ServiceName, number>> {
  const deleted = {} as Record<ServiceName, number>;
  for (const phase of [...PHASES].reverse()) {
    await Promise.all(
      servicesOfPhase(phase).map(async (service) => {
        deleted[service] = await removeFromService(w, service, sessionId, tenantIds);
      }),
    );
  }
  await w.redis.del(...sessionKeys(w.cfg.QUEUE_PREFIX, sessionId));
  return deleted;
}

async function removeFromService(w: WorkerContext, service: ServiceName, sessionId: string, tenantIds: readonly string[]): Promise<number> {
  const client = await w.dbs.pool(service).connect();
  try {
    await client.query('BEGIN');
    await tombstoneLoad(client, sessionId);
    let n = 0;
    for (const table of [...TABLES[service]].reverse()) n += await deleteTenantRows(client, table, tenantIds);
    await client.query('COMMIT');
    client.release();
    if (Date.now() - (lastPurge.get(service) ?? 0) > 3600_000) {
      lastPurge.set(service, Date.now());
      await purgeOldTombstones(w.dbs.pool(service), TOMBSTONE_SECONDS).catch(() => undefined);
    }
    return n;
  } catch (err) {
    client.release(true);
    throw new Error(`removing session ${sessionId} from ${service} failed: ${(err as Error).message}`);
  }
}
