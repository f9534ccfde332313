import type { Redis } from 'ioredis';
import { SERVICES, type ServiceName } from '../catalog/services.ts';
import type { Databases } from '../db/pools.ts';
import { loadMarker, type LoadState } from '../db/sql/session-loads.ts';
import { progressKey } from '../redis/keys.ts';
import { progressFromMarkers, type Progress } from './session-view.ts';

/** How long a GET waits for Redis's progress hash, then for the load markers, before it answers with what it has. */
export const PROGRESS_REDIS_TIMEOUT_MS = 1_000;
export const PROGRESS_MARKERS_TIMEOUT_MS = 1_500;

export interface ProgressTimeouts {
  readonly redisMs?: number;
  readonly markersMs?: number;
}

/**
 * A loading session's progress per service: what the workers write to Redis, or,
 * when Redis does not answer (not connected, an error, or no answer within
 * `redisMs`), what the 11 service databases' load markers say, read in parallel;
 * a database that does not answer within `markersMs` leaves its service pending.
 */
export async function readProgress(
  redis: Redis,
  dbs: Databases,
  prefix: string,
  sessionId: string,
  t: ProgressTimeouts = {},
): Promise<Progress> {
  if (redis.status === 'ready') {
    try {
      const raw = await within(redis.hgetall(progressKey(prefix, sessionId)), t.redisMs ?? PROGRESS_REDIS_TIMEOUT_MS);
      if (raw !== undefined)
        return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, JSON.parse(v) as Progress[string]]));
    } catch {
      // Redis failed: the markers below
    }
  }
  return markerProgress(dbs, sessionId, t.markersMs ?? PROGRESS_MARKERS_TIMEOUT_MS);
}

/** The progress the load markers tell (progressFromMarkers), every database asked at once. */
export async function markerProgress(
  dbs: Databases,
  sessionId: string,
  timeoutMs = PROGRESS_MARKERS_TIMEOUT_MS,
): Promise<Progress> {
  const markers = await Promise.all(
    SERVICES.map(async (service): Promise<[ServiceName, LoadState | undefined]> => {
      try {
        return [service, await within(loadMarker(dbs.pool(service), sessionId), timeoutMs)];
      } catch {
        return [service, undefined];
      }
    }),
  );
  return progressFromMarkers(Object.fromEntries(markers));
}

/** The promise's value, or undefined once `ms` passed (the promise goes on; its failure is ignored). */
function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  p.catch(() => undefined);
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
