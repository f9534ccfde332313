import type { Command } from 'commander';
import { loadConfig } from '../../config/env.ts';
import { migrate } from '../../db/migrate.ts';
import { createLogger } from '../../shared/logger.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('create missing databases and apply migrations (safe to run again)')
    .action(async () => {
      const cfg = loadConfig();
      const applied = await migrate(cfg, createLogger(cfg.LOG_LEVEL, 'stderr'));
      console.log(
        applied.length === 0
          ? 'databases up to date'
          : `applied ${applied.length} migrations:\n  ${applied.join('\n  ')}`,
      );
    });
}
