import { loadConfig, type Config } from '../config/env.ts';
import { Databases } from '../db/pools.ts';
import { createFlowProducer } from '../flows/queues.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import { SessionProducer } from '../sessions/create-session.ts';
import { createRedis, type Redis } from '../redis/connection.ts';
import { ProfileCache } from '../seed/profile-cache.ts';
import { workerContext, type WorkerContext } from './context.ts';

/** The process-wide pieces a command needs, built once and closed together. */
export interface Runtime {
  readonly cfg: Config;
  readonly log: Logger;
  readonly dbs: Databases;
  readonly redis: Redis;
  readonly producer: SessionProducer;
  readonly worker: WorkerContext;
  close(): Promise<void>;
}

export function createRuntime(cfg: Config = loadConfig(), log: Logger = createLogger(cfg.LOG_LEVEL)): Runtime {
  const dbs = new Databases(cfg);
  // Its errors reach the command that uses it; the outage itself is logged once (redis/outage-log.ts).
  const redis = createRedis(cfg.REDIS_URL, 'producer', {}, { log, name: 'producer' });
  const flows = createFlowProducer(cfg, redis);
  const profiles = new ProfileCache();
  return {
    cfg,
    log,
    dbs,
    redis,
    producer: new SessionProducer(cfg, dbs, redis, flows, profiles),
    worker: { ...workerContext(cfg, dbs, redis, log), profiles },
    async close() {
      await flows.close().catch(() => undefined);
      redis.disconnect();
      await dbs.close();
    },
  };
}
