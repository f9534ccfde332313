import type { Redis } from 'ioredis';
import type { Config } from '../config/env.ts';
import type { Databases } from '../db/pools.ts';
import type { Logger } from '../shared/logger.ts';
import { IdMaps } from '../redis/id-maps.ts';
import { ProfileCache } from '../seed/profile-cache.ts';

/** What job handlers need: the side effects behind small modules. */
export interface WorkerContext {
  readonly cfg: Config;
  readonly dbs: Databases;
  /**
   * The non-blocking Redis connection for ID maps and progress. Workers give it one of
   * its own, onto which BullMQ loads no scripts (every ioredis pipeline copies the
   * scripts of its connection); a one-shot command or the API (runtime.ts), which reads
   * or removes a few keys, shares its only connection.
   */
  readonly redis: Redis;
  /** The connection for the BullMQ classes the handlers make (BullMQ loads its scripts onto it). */
  readonly queueRedis: Redis;
  readonly idMaps: IdMaps;
  readonly profiles: ProfileCache;
  readonly log: Logger;
}

export function workerContext(
  cfg: Config,
  dbs: Databases,
  redis: Redis,
  log: Logger,
  queueRedis: Redis = redis,
): WorkerContext {
  return {
    cfg,
    dbs,
    redis,
    queueRedis,
    idMaps: new IdMaps(redis, cfg.QUEUE_PREFIX),
    profiles: new ProfileCache(),
    log,
  };
}
