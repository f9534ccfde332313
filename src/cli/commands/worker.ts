import type { Command } from 'commander';
import { isServiceName, SERVICES, type ServiceName } from '../../catalog/services.ts';
import { loadConfig } from '../../config/env.ts';
import { Databases } from '../../db/pools.ts';
import { createLogger } from '../../shared/logger.ts';
import { createRedis } from '../../redis/connection.ts';
import { startWorkerHealth } from '../../workers/health-server.ts';
import { databasesOf, startWorkers } from '../../workers/run-workers.ts';
import { onShutdown } from '../shutdown.ts';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run workers (every service unless --services is given); scale by running more')
    .option('--services <list>', `comma-separated: ${SERVICES.join(',')}`)
    .option('--no-session-queue', 'do not run the session (flow parent) worker in this process')
    .action(async (o: { services?: string; sessionQueue: boolean }) => {
      const services = parseServices(program, o.services);
      const cfg = loadConfig();
      const log = createLogger(cfg.LOG_LEVEL);
      const dbs = new Databases(cfg);
      const workers = await startWorkers(cfg, dbs, log, services, { sessionQueue: o.sessionQueue });
      const redis = createRedis(cfg.REDIS_URL, 'producer');
      redis.on('error', () => undefined);
      const databases = databasesOf(services, o.sessionQueue);
      // A health port in use (two workers on one host) must not leave workers running unwatched.
      const health = await startWorkerHealth(
        { port: cfg.WORKER_HEALTH_PORT, host: cfg.HOST, workers, redis, dbs, databases },
        log,
      ).catch(async (err: unknown) => {
        await workers.close();
        redis.disconnect();
        await dbs.close();
        throw err;
      });
      onShutdown(log, async () => {
        await workers.close();
        health.close();
        redis.disconnect();
        await dbs.close();
      });
    });
}

export function parseServices(program: Command, list: string | undefined): ServiceName[] {
  if (list === undefined) return [...SERVICES];
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !isServiceName(n));
  if (names.length === 0 || bad.length > 0) {
    program.error(
      `--services: unknown service ${bad.map((b) => `"${b}"`).join(', ') || '(none given)'}; choose from ${SERVICES.join(', ')}`,
      { exitCode: 2 },
    );
  }
  return names as ServiceName[];
}
