import { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Databases } from '../../db/pools.ts';
import { ApiError } from '../errors.ts';

/** Liveness and readiness, for Kubernetes probes and load balancers. */
export const READY_TIMEOUT_MS = 2_000;

function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function healthRoutes(d: { redis: Redis; dbs: Databases }): Router {
  const router = Router();

  /** The process is alive and serving: no dependency is checked. */
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  /** Ready when Redis answers PING and every database answers; 503 names what is down. */
  router.get('/readyz', async (_req, res) => {
    const [redis, databases] = await Promise.all([
      bounded(d.redis.ping(), READY_TIMEOUT_MS, 'redis').then(
        () => 'ok' as const,
        (err: unknown) => (err as Error).message,
      ),
      bounded(d.dbs.unreachable(), READY_TIMEOUT_MS, 'databases').then(
        (down) => (down.length === 0 ? ('ok' as const) : Object.fromEntries(down.map((x) => [x.database, x.error]))),
        (err: unknown) => ({ '(all)': (err as Error).message }),
      ),
    ]);
    if (redis === 'ok' && databases === 'ok') {
      res.json({ status: 'ready', checks: { redis, databases } });
      return;
    }
    const dbNames = databases === 'ok' ? [] : Object.keys(databases).map((k) => (k === '(all)' ? 'databases (no answer in time)' : `database ${k}`));
    const down = [...(redis === 'ok' ? [] : ['redis']), ...dbNames];
    throw new ApiError(503, 'not_ready', `not reachable: ${down.join(', ')}`, undefined, { checks: { redis, databases } });
  });
  return router;
}
