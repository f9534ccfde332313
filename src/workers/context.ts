import type { Redis } from 'ioredis';
import type { Config } from '../config/env.ts';
import type { Databases } from '../db/pools.ts';
import type { Logger } from '../logger.ts';
import { IdMaps } from '../redis/id-maps.ts';
import { ProfileCache } from '../seed/profile-cache.ts';

/** What job handlers need: the side effects behind small modules. */
export interface WorkerContext {
  readonly cfg: Config;
  readonly dbs: Databases;
  /** A non-blocking Redis connection for ID maps and progress. */
  readonly redis: Redis;
  readonly idMaps: IdMaps;
  readonly profiles: ProfileCache;
  readonly log: Logger;
}

export function workerContext(cfg: Config, dbs: Databases, redis: Redis, log: Logger): WorkerContext {
  return { cfg, dbs, redis, idMaps: new IdMaps(redis, cfg.QUEUE_PREFIX), profiles: new ProfileCache(), log };
}
