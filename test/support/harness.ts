import { randomUUID } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config/env.ts';
import { dropDatabases, migrate } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { createRuntime, type Runtime } from '../../src/runtime/runtime.ts';
import { startWorkers, type RunningWorkers } from '../../src/workers/run-workers.ts';
import { redisReady } from '../../src/redis/connection.ts';
import { deleteKeysMatching } from '../../src/redis/keys.ts';

/**
 * One test file's world: its own databases (DB_NAME_PREFIX) and its own queue
 * prefix on the real PostgreSQL and Redis named by DATABASE_URL and REDIS_URL,
 * all removed by close().
 */
export interface Harness {
  readonly id: string;
  readonly cfg: Config;
  /** Environment for child processes (`demo-seed worker`, ...) that share this world. */
  readonly env: NodeJS.ProcessEnv;
  readonly rt: Runtime;
  startWorkers(services?: Parameters<typeof startWorkers>[3]): Promise<RunningWorkers>;
  close(): Promise<void>;
}

export async function createHarness(overrides: Record<string, string> = {}): Promise<Harness> {
  const id = randomUUID().replace(/-/g, '').slice(0, 10);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DB_NAME_PREFIX: `t${id}_`,
    QUEUE_PREFIX: `{t-${id}}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    JOB_BACKOFF_MS: '20',
    LOCK_DURATION_MS: '3000',
    STALLED_INTERVAL_MS: '1000',
    ...overrides,
  };
  const cfg = loadConfig(env);
  const log = createLogger(cfg.LOG_LEVEL, 'stderr');
  await migrate(cfg, log);
  const rt = createRuntime(cfg, log);
  await redisReady(rt.redis);
  const running: RunningWorkers[] = [];
  return {
    id,
    cfg,
    env,
    rt,
    async startWorkers(services) {
      const w = await startWorkers(cfg, rt.dbs, log, services);
      running.push(w);
      return w;
    },
    async close() {
      await Promise.all(running.map((w) => w.close()));
      await deleteKeysMatching(rt.redis, `${cfg.QUEUE_PREFIX}:*`);
      await rt.close();
      await dropDatabases(cfg);
    },
  };
}

/** Polls until `fn` returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
