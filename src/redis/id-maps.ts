import type { Redis } from 'ioredis';
import type { EntityName } from '../catalog/tables.ts';
import { idMapKey, loadedKey, progressKey } from './keys.ts';

/** An entry to add to a stream, trimmed to about `maxLen` entries. */
export interface StreamEntry {
  readonly stream: string;
  readonly maxLen: number;
  readonly fields: Readonly<Record<string, string>>;
}

/** A service's progress entry for a session, as the API shows it while loading. */
export interface ProgressEntry {
  readonly service: string;
  readonly value: Record<string, unknown>;
  readonly ttlSeconds: number;
}

/**
 * Records a service's progress and reads several ID maps, in one call. The maps come
 * back as flat arrays (field, value, …): ioredis turns an HGETALL reply into an
 * object, a cost per field that a Map built from the array does not have.
 * KEYS[1]: the progress hash; KEYS[2..]: the maps. ARGV: the progress field, value and
 * TTL (an empty field: no progress).
 */
const READ_MAPS = `
if ARGV[1] ~= '' then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
local maps = {}
for i = 2, #KEYS do maps[i - 1] = redis.call('HGETALL', KEYS[i]) end
return maps`;

type MapsReader = Redis & { demoSeedReadMaps(...keysAndArgs: (string | number)[]): Promise<string[][]> };

/**
 * ID maps (base id → session id) of one session, as Redis hashes that expire with
 * the session, and the session's per-service progress. Each call is one round trip.
 */
export class IdMaps {
  private readonly redis: MapsReader;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    if (!('demoSeedReadMaps' in redis)) redis.defineCommand('demoSeedReadMaps', { lua: READ_MAPS });
    this.redis = redis as MapsReader;
  }

  /** Reads several maps (a map nobody published comes back empty), recording `progress` on the way. */
  async read(
    sessionId: string,
    entities: readonly EntityName[],
    progress?: ProgressEntry,
  ): Promise<Map<EntityName, Map<string, string>>> {
    const keys = [progressKey(this.prefix, sessionId), ...entities.map((e) => idMapKey(this.prefix, sessionId, e))];
    const args = progress ? [progress.service, JSON.stringify(progress.value), progress.ttlSeconds] : ['', '', 0];
    const replies = await this.redis.demoSeedReadMaps(keys.length, ...keys, ...args);
    const out = new Map<EntityName, Map<string, string>>();
    entities.forEach((e, i) => {
      const flat = replies[i] ?? [];
      const map = new Map<string, string>();
      for (let j = 0; j + 1 < flat.length; j += 2) map.set(flat[j] as string, flat[j + 1] as string);
      out.set(e, map);
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
