import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis connection for BullMQ and the ID maps. Workers need
 * `maxRetriesPerRequest: null` (their blocking commands must wait out a reconnect);
 * producers fail fast instead, so an API call answers instead of hanging.
 */
export function createRedis(url: string, role: 'worker' | 'producer', extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role === 'worker',
    connectTimeout: 5_000,
    lazyConnect: false,
    ...extra,
  });
}

export type { Redis };
