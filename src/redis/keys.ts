import type { Redis } from 'ioredis';
import { SERVICES } from '../catalog/services.ts';
import { publishedEntities, type EntityName } from '../catalog/tables.ts';

/**
 * Redis keys of one session. They live under the queue prefix (one hash tag, so a
 * Redis Cluster keeps them in one slot with the flow's queues).
 */
export function idMapKey(prefix: string, sessionId: string, entity: EntityName): string {
  return `${prefix}:session:${sessionId}:idmap:${entity}`;
}

export function progressKey(prefix: string, sessionId: string): string {
  return `${prefix}:session:${sessionId}:progress`;
}

/** The set of services whose load a session has published (see IdMaps.publish). */
export function loadedKey(prefix: string, sessionId: string): string {
  return `${prefix}:session:${sessionId}:loaded`;
}

/** Every key a session may own: what destroy removes. */
export function sessionKeys(prefix: string, sessionId: string): string[] {
  const maps = SERVICES.flatMap((s) => publishedEntities(s)).map((e) => idMapKey(prefix, sessionId, e));
  return [...maps, progressKey(prefix, sessionId), loadedKey(prefix, sessionId)];
}

/** Deletes every key matching `pattern` (SCAN, never KEYS); returns how many. For tests and tools, not hot paths. */
export async function deleteKeysMatching(redis: Redis, pattern: string): Promise<number> {
  let n = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) n += await redis.del(...keys);
  } while (cursor !== '0');
  return n;
}
