import type { Redis } from 'ioredis';
import type { EntityName } from '../catalog/tables.ts';
import type { StreamEntry } from '../flows/session-events.ts';
import { idMapKey, loadedKey, progressKey } from './keys.ts';

/** A service's progress entry for a session, as the API shows it while loading. */
export interface ProgressEntry {
  readonly service: string;
  readonly value: Record<string, unknown>;
  readonly ttlSeconds: number;
}

/**
 * ID maps (base id → session id) of one session, as Redis hashes that expire with
 * the session, and the session's per-service progress. Each call is one round trip.
 */
export class IdMaps {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** Reads several maps (a map nobody published comes back empty), recording `progress` on the way. */
  async read(sessionId: string, entities: readonly EntityName[], progress?: ProgressEntry): Promise<Map<EntityName, Map<string, string>>> {
    const pipe = this.redis.pipeline();
    if (progress) this.addProgress(pipe, sessionId, progress);
    for (const e of entities) pipe.hgetall(idMapKey(this.prefix, sessionId, e));
    const results = (await pipe.exec()) ?? [];
    const offset = progress ? 2 : 0;
    const out = new Map<EntityName, Map<string, string>>();
    results.forEach(([err]) => {
      if (err) throw err;
    });
    entities.forEach((e, i) => {
      const value = results[offset + i]?.[1] as Record<string, string> | undefined;
      out.set(e, new Map(Object.entries(value ?? {})));
    });
    return out;
  }

  /**
   * Publishes maps and the service's `progress` atomically, and adds the service to
   * the session's set of loaded services in the same transaction, which comes back
   * with it: `first` is true for exactly one call per service and session, and that
   * call's `loaded` holds every service published before it (so of two services
   * finishing at once, one sees both). Publishing the same map again changes nothing.
   * `event`, if given, is added to its stream in the same transaction.
   */
  async publish(
    sessionId: string,
    maps: ReadonlyMap<EntityName, ReadonlyMap<string, string>>,
    ttlSeconds: number,
    progress: ProgressEntry,
    event?: StreamEntry,
  ): Promise<{ first: boolean; loaded: Set<string> }> {
    const multi = this.redis.multi();
    for (const [entity, map] of maps) {
      if (map.size === 0) continue;
      const key = idMapKey(this.prefix, sessionId, entity);
      multi.hset(key, Object.fromEntries(map));
      multi.expire(key, ttlSeconds);
    }
    this.addProgress(multi, sessionId, progress);
    if (event) multi.xadd(event.stream, 'MAXLEN', '~', event.maxLen, '*', ...Object.entries(event.fields).flat());
    const loaded = loadedKey(this.prefix, sessionId);
    multi.sadd(loaded, progress.service);
    multi.expire(loaded, ttlSeconds);
    multi.smembers(loaded);
    const results = (await multi.exec()) ?? [];
    for (const [err] of results) if (err) throw err;
    return { first: results.at(-3)?.[1] === 1, loaded: new Set(results.at(-1)?.[1] as string[]) };
  }

  private addProgress(pipe: ReturnType<Redis['pipeline']>, sessionId: string, p: ProgressEntry): void {
    const key = progressKey(this.prefix, sessionId);
    pipe.hset(key, p.service, JSON.stringify(p.value));
    pipe.expire(key, p.ttlSeconds);
  }
}
