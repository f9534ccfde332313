import { Router } from 'express';
import type { Redis } from 'ioredis';
import { DATABASE_KEYS, type DatabaseKey } from '../../catalog/services.ts';
import { databaseUrl, type Config } from '../../config/env.ts';
import type { Databases } from '../../db/pools.ts';
import type { Logger } from '../../shared/logger.ts';
import { ApiError, sendError } from '../errors.ts';

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

/** The database's name as PostgreSQL knows it (`<prefix><key>`, or the path of `<KEY>_DATABASE_URL`). */
export function databaseLabel(cfg: Config, key: DatabaseKey): string {
  try {
    return decodeURIComponent(new URL(databaseUrl(cfg, key)).pathname.slice(1)) || key;
  } catch {
    return key;
  }
}

export interface HealthDeps {
  readonly redis: Redis;
  readonly dbs: Databases;
  readonly cfg: Config;
  readonly log: Logger;
}

/**
 * /readyz is open to everyone (probes come without credentials), so its answer names
 * what is down and nothing more: PostgreSQL's and Redis' error text (host names,
 * ports, users, settings) goes to the log, one warn line each time what is down changes.
 */
export function healthRoutes(d: HealthDeps): Router {
  const router = Router();
  // Probes ask every few seconds: what is down is logged when it changes, not on every probe.
  let lastDown = '';

  /** The process is alive and serving: no dependency is checked. */
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  /** Ready when Redis answers PING and every database answers; 503 names what is down. */
  router.get('/readyz', async (_req, res) => {
    const failure = (err: unknown) => (err instanceof Error ? err.message : String(err));
    const [redisError, dbErrors] = await Promise.all([
      bounded(d.redis.ping(), READY_TIMEOUT_MS, 'redis').then(
        () => undefined,
        (err: unknown) => failure(err),
      ),
      // One bound per database, so a slow one is named, not the lot.
      Promise.all(
        DATABASE_KEYS.map((key) =>
          bounded(d.dbs.unreachable([key]), READY_TIMEOUT_MS, key).then(
            (down) => (down.length === 0 ? undefined : ([key, down[0]!.error] as const)),
            (err: unknown) => [key, failure(err)] as const,
          ),
        ),
      ).then((all) => all.filter((x): x is readonly [DatabaseKey, string] => x !== undefined)),
    ]);
    if (redisError === undefined && dbErrors.length === 0) {
      if (lastDown !== '') d.log.info({ was_down: lastDown.split(',') }, 'ready again');
      lastDown = '';
      res.json({ status: 'ready', checks: { redis: 'ok', databases: 'ok' } });
      return;
    }
    const down = [
      ...(redisError === undefined ? [] : ['redis']),
      ...dbErrors.map(([key]) => databaseLabel(d.cfg, key)),
    ];
    const changed = down.join(',') !== lastDown;
    lastDown = down.join(',');
    if (changed)
      d.log.warn(
        {
          down,
          ...(redisError === undefined ? {} : { redis: redisError }),
          ...(dbErrors.length === 0
            ? {}
            : { databases: Object.fromEntries(dbErrors.map(([key, error]) => [databaseLabel(d.cfg, key), error])) }),
        },
        'not ready',
      );
    const named = [...(redisError === undefined ? [] : ['redis']), ...dbErrors.map(([key]) => `database ${key}`)];
    // Answered here, not thrown: the error handler would log the check a second time.
    sendError(
      res,
      new ApiError(503, 'not_ready', `not reachable: ${named.join(', ')}`, undefined, {
        status: 'unavailable',
        down,
        checks: {
          redis: redisError === undefined ? 'ok' : 'down',
          databases: dbErrors.length === 0 ? 'ok' : Object.fromEntries(dbErrors.map(([key]) => [key, 'down'])),
        },
      }),
    );
  });
  return router;
}
