import type { Command } from 'commander';
import { loadConfig } from '../../config/env.ts';
import { createLogger } from '../../shared/logger.ts';
import { redisReady } from '../../redis/connection.ts';
import { UUID_RE } from '../../shared/uuid.ts';
import { destroySession } from '../../sessions/destroy-session.ts';
import { createRuntime } from '../../runtime/runtime.ts';

export function registerDestroy(program: Command): void {
  program
    .command('destroy')
    .description("remove a session's rows from every database and its Redis keys")
    .argument('<session_id>', 'the session to remove')
    .action(async (sessionId: string) => {
      if (!UUID_RE.test(sessionId)) program.error(`session id must be a uuid, got "${sessionId}"`, { exitCode: 2 });
      const cfg = loadConfig();
      const rt = createRuntime(cfg, createLogger(cfg.LOG_LEVEL, 'stderr'));
      try {
        await redisReady(rt.redis);
        const { deleted, duration_ms } = await destroySession(rt.worker, sessionId.toLowerCase());
        const total = Object.values(deleted).reduce((a, b) => a + b, 0);
        console.log(`session ${sessionId} destroyed: ${total} rows removed in ${duration_ms} ms`);
        for (const [service, n] of Object.entries(deleted))
          console.log(`  ${service.padEnd(14)} ${String(n).padStart(8)}`);
      } finally {
        await rt.close();
      }
    });
}
