import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { isSubscriptionTier, SUBSCRIPTION_TIERS } from '../../catalog/tables.ts';
import { loadConfig } from '../../config/env.ts';
import { createQueue, QUEUE_NAMES } from '../../flows/queues.ts';
import { createLogger } from '../../shared/logger.ts';
import { redisReady } from '../../redis/connection.ts';
import type { SessionView } from '../../sessions/session-view.ts';
import { startWorkers, type RunningWorkers } from '../../workers/run-workers.ts';
import { createRuntime, type Runtime } from '../../runtime/runtime.ts';
import { formatSession } from '../format.ts';

const FINAL = new Set(['ready', 'failed', 'destroyed', 'expired']);

export function registerCreate(program: Command): void {
  program
    .command('create')
    .description('create one demo session, wait until it is ready or failed, print rows and durations')
    .requiredOption('--profile <name>', 'seed-data profile: professional or enterprise')
    .option('--email <email>', "the prospect's email")
    .option('--subscription-tier <tier>', 'subscription tier recorded with the session')
    .option('--data <dir>', 'seed-data root', undefined)
    .option('--timeout <seconds>', 'give up waiting after this long', '120')
    .option('--json', 'print the session object as the last line')
    .action(
      async (o: {
        profile: string;
        email?: string;
        subscriptionTier?: string;
        data?: string;
        timeout: string;
        json?: boolean;
      }) => {
        const timeout = Number(o.timeout);
        if (!Number.isFinite(timeout) || timeout <= 0)
          program.error(`--timeout must be a positive number of seconds, got "${o.timeout}"`, { exitCode: 2 });
        if (o.subscriptionTier !== undefined && !isSubscriptionTier(o.subscriptionTier))
          program.error(
            `--subscription-tier must be one of ${SUBSCRIPTION_TIERS.join(', ')}, got "${o.subscriptionTier}"`,
            { exitCode: 2 },
          );
        const cfg = loadConfig();
        const rt = createRuntime(cfg, createLogger(cfg.LOG_LEVEL, 'stderr'));
        let workers: RunningWorkers | undefined;
        try {
          await redisReady(rt.redis);
          if (!(await workersRunning(rt))) {
            rt.log.info('no workers are running: starting them in this process');
            workers = await startWorkers(cfg, rt.dbs, rt.log, undefined, { profiles: rt.worker.profiles });
          }
          const created = await rt.producer.create({
            profile: o.profile,
            email: o.email ?? null,
            subscriptionTier: o.subscriptionTier ?? null,
            dataDir: o.data,
          });
          const view = await waitForEnd(rt, created.session_id, timeout * 1000);
          if (!workers) logPhases(rt, view); // in-process workers have logged them already
          console.log(formatSession(view));
          if (o.json) console.log(JSON.stringify(view));
          process.exitCode = view.status === 'ready' ? 0 : 1;
        } finally {
          await workers?.close();
          await rt.close();
        }
      },
    );
}

/**
 * The runbook's lines (`grep "Phase.*completed"`, `grep duration_ms`) in this
 * process's log, when the workers that logged them run elsewhere.
 */
function logPhases(rt: Runtime, v: SessionView): void {
  for (const [phase, p] of Object.entries(v.phases)) {
    if (p)
      rt.log.info(
        {
          session_id: v.session_id,
          phase: Number(phase),
          services: p.services,
          rows: p.rows,
          duration_ms: p.duration_ms,
        },
        `Phase ${phase} completed`,
      );
  }
  const rows = Object.values(v.services).reduce((n, s) => n + s.rows, 0);
  const line = {
    session_id: v.session_id,
    profile: v.demo_account_type,
    status: v.status,
    rows,
    duration_ms: v.duration_ms,
  };
  if (v.status === 'ready') rt.log.info(line, 'session ready');
  else rt.log.error({ ...line, error: v.error }, `session ${v.status}`);
}

/** True when every queue has at least one worker somewhere. */
async function workersRunning(rt: Runtime): Promise<boolean> {
  for (const name of QUEUE_NAMES) {
    const q = createQueue(rt.cfg, rt.redis, name);
    try {
      if ((await q.getWorkersCount()) === 0) return false;
    } catch {
      return false;
    } finally {
      await q.close();
    }
  }
  return true;
}

async function waitForEnd(rt: Runtime, sessionId: string, timeoutMs: number): Promise<SessionView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await rt.producer.view(sessionId);
    if (!view) throw new Error(`session ${sessionId} vanished`);
    if (FINAL.has(view.status)) return view;
    if (Date.now() > deadline) throw new Error(`session ${sessionId} still ${view.status} after ${timeoutMs / 1000}s`);
    await sleep(10);
  }
}
