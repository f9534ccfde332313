import type { Command } from 'commander';
import { loadConfig } from '../../config/env.ts';
import { Databases } from '../../db/pools.ts';
import { migrate } from '../../db/migrate.ts';
import { createLogger } from '../../logger.ts';
import { startWorkers } from '../../workers/run-workers.ts';
import { onShutdown } from '../shutdown.ts';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('the whole service in one process: migrations, workers for every service')
    .action(async () => {
      const cfg = loadConfig();
      const log = createLogger(cfg.LOG_LEVEL);
      await migrate(cfg, log);
      const dbs = new Databases(cfg);
      const workers = await startWorkers(cfg, dbs, log);
      onShutdown(log, async () => {
        await workers.close();
        await dbs.close();
      });
    });
}
