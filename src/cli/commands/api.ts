import type { Command } from 'commander';
import { startApi } from '../../api/server.ts';
import { loadConfig } from '../../config/env.ts';
import { createLogger } from '../../shared/logger.ts';
import { createRuntime } from '../../runtime/runtime.ts';
import { onShutdown } from '../shutdown.ts';

export function registerApi(program: Command): void {
  program
    .command('api')
    .description('serve the HTTP API and Bull Board (no workers: run `demo-seed worker` beside it)')
    .action(async () => {
      const cfg = loadConfig();
      const log = createLogger(cfg.LOG_LEVEL);
      const rt = createRuntime(cfg, log);
      const api = await startApi(cfg, rt, log).catch(async (err: unknown) => {
        await rt.close();
        throw err;
      });
      onShutdown(log, async () => {
        await api.close();
        await rt.close();
      });
    });
}
