import type { Redis } from 'ioredis';
import type { EntityName } from '../catalog/tables.ts';
import { idMapKey } from './keys.ts';

/** ID maps (base id → session id) of one session, as Redis hashes that expire with the session. */
export class IdMaps {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** Reads several maps in one round trip. A map nobody published comes back empty. */
  async read(sessionId: string, entities: readonly EntityName[]): Promise<Map<EntityName, Map<string, string>>> {
    const out = new Map<EntityName, Map<string, string>>();
    if (entities.length === 0) return out;
    const pipe = this.redis.pipeline();
    for (const e of entities) pipe.hgetall(idMapKey(this.prefix, sessionId, e));
    const results = (await pipe.exec()) ?? [];
    entities.forEach((e, i) => {
      const [err, value] = results[i] ?? [new Error('no reply'), null];
      if (err) throw err;
      out.set(e, new Map(Object.entries((value ?? {}) as Record<string, string>)));
    });
    return out;
  }

  /** Publishes maps atomically with their expiry; publishing the same map again changes nothing. */
  async publish(sessionId: string, maps: ReadonlyMap<EntityName, ReadonlyMap<string, string>>, ttlSeconds: number): Promise<void> {
    const multi = this.redis.multi();
    let any = false;
    for (const [entity, map] of maps) {
      if (map.size === 0) continue;
      const key = idMapKey(this.prefix, sessionId, entity);
      multi.hset(key, Object.fromEntries(map));
      multi.expire(key, ttlSeconds);
      any = true;
    }
    if (any) await multi.exec();
    else multi.discard();
  }
}
