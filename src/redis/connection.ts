import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../shared/logger.ts';
import { outageLog } from './outage-log.ts';

/**
 * A Redis connection for BullMQ and the ID maps. Workers need
 * `maxRetriesPerRequest: null` (their blocking commands must wait out a reconnect);
 * producers fail fast instead, so an API call answers instead of hanging.
 *
 * Every client gets an `error` listener at once (ioredis prints an "Unhandled error
 * event" for each failed reconnect of a client without one): with `watch`, the
 * process's outage log (redis/outage-log.ts: the outage told once, then summed up
 * every few seconds); without, none (the errors reach whoever runs a command).
 */
export function createRedis(
  url: string,
  role: 'worker' | 'producer',
  extra: RedisOptions = {},
  watch?: { log: Logger; name: string },
): Redis {
  const client = new Redis(url, {
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role === 'worker',
    connectTimeout: 5_000,
    lazyConnect: false,
    ...extra,
  });
  if (watch) outageLog(watch.log).watchClient(client, watch.name);
  else client.on('error', () => undefined);
  return client;
}

export type { Redis };

/** Resolves once the connection is ready, or rejects after `timeoutMs` naming the URL's host. */
export async function redisReady(redis: Redis, timeoutMs = 5_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(
        new Error(
          `Redis at ${redis.options.host ?? '?'}:${redis.options.port ?? '?'} did not answer within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
