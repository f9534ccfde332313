import type { Command } from 'commander';
import { startApi } from '../../api/server.ts';
import { loadConfig } from '../../config/env.ts';
import { migrate } from '../../db/migrate.ts';
import { createLogger } from '../../shared/logger.ts';
import { startWorkers } from '../../workers/run-workers.ts';
import { createRuntime } from '../../runtime/runtime.ts';
import { onShutdown } from '../shutdown.ts';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('the whole service in one process: migrations, workers for every service, HTTP API and Bull Board')
    .action(async () => {
      const cfg = loadConfig();
      const log = createLogger(cfg.LOG_LEVEL);
      await migrate(cfg, log);
      const rt = createRuntime(cfg, log);
      const workers = await startWorkers(cfg, rt.dbs, log, undefined, { profiles: rt.worker.profiles });
      // A port in use must not leave the workers running in a process that then does nothing else.
      const api = await startApi(cfg, rt, log).catch(async (err: unknown) => {
        await workers.close();
        await rt.close();
        throw err;
      });
      onShutdown(log, async () => {
        // No new requests first, then let running jobs finish, then the connections.
        await api.close();
        await workers.close();
        await rt.close();
      });
    });
}
