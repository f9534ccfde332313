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

/** Resolves once the connection is ready, or rejects after `timeoutMs` naming the URL's host. */
export async function redisReady(redis: Redis, timeoutMs = 5_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis at ${redis.options.host ?? '?'}:${redis.options.port ?? '?'} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
