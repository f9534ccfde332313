import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import type { Config } from '../config/env.ts';
import type { Logger } from '../shared/logger.ts';
import { adminCredentials, lockedError, realmHeader, unauthorizedError } from './bull-board.ts';
import { ApiError } from './errors.ts';
import { redisLimitStore } from './rate-limit.ts';

/** The client, as for the POST limit: `req.ip` (TRUST_PROXY decides), IPv6 grouped by /56. */
const clientKey = (ip: string | undefined) => ipKeyGenerator(ip ?? 'unknown');

/**
 * The board's login, in front of it: HTTP basic auth whose failures are counted per
 * client in Redis (express-rate-limit with rate-limit-redis, keys
 * `<QUEUE_PREFIX>:admin-login-failures:*`), so every API replica shares one count.
 * A request that presents wrong credentials counts one failure; after
 * ADMIN_LOGIN_MAX_FAILURES of them within the fixed window of ADMIN_LOGIN_WINDOW_SECONDS
 * (from the first), the client gets 429 with `Retry-After` until the window ends, the
 * right password included. A request without credentials (a browser's first, before it
 * asks) is not a failure. Should Redis not answer, nothing is checked: 503 (an answer
 * that told right from wrong then would let guesses through uncounted).
 */
export function adminLogin(cfg: Config, log: Logger, redis: Redis): RequestHandler {
  const check = adminCredentials(cfg.ADMIN_USER, cfg.ADMIN_PASSWORD);
  const max = cfg.ADMIN_LOGIN_MAX_FAILURES;
  const windowSeconds = cfg.ADMIN_LOGIN_WINDOW_SECONDS;
  const store = redisLimitStore(redis, `${cfg.QUEUE_PREFIX}:admin-login-failures:`);
  const failures = rateLimit({
    store,
    passOnStoreError: false,
    windowMs: windowSeconds * 1000,
    limit: max,
    keyGenerator: (req) => ipKeyGenerator(req.ip ?? 'unknown'),
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'admin-login-failures',
    handler: (_req, res, next) => {
      res.removeHeader('WWW-Authenticate');
      next(
        new ApiError(
          429,
          'rate_limited',
          `too many failed admin logins from this client (at most ${max} in ${windowSeconds} s); retry after ${String(res.getHeader('Retry-After') ?? windowSeconds)} s`,
        ),
      );
    },
    logger: {
      error: (err, message) => log.error({ err: (err as Error)?.message }, message ?? 'admin login limit error'),
      warn: (err, message) => log.warn({ err: (err as Error)?.message }, message ?? 'admin login limit warning'),
    },
  });

  const unavailable = (err: unknown) => {
    log.warn(
      { err: (err as Error)?.message },
      'admin login: the failure count in Redis cannot be read; refusing the login',
    );
    return new ApiError(503, 'login_unavailable', 'the admin login cannot be checked right now; try again shortly');
  };

  return (req, res, next) => {
    res.setHeader('WWW-Authenticate', realmHeader());
    const verdict = check(req.get('Authorization'));
    if (verdict === 'locked') {
      next(lockedError());
      return;
    }
    // Counts one failure: 401 while under the limit, 429 (the handler above) past it.
    const countFailure = () =>
      failures(req, res, (err?: unknown) => {
        if (err === undefined) {
          // Under the limit (a window that just ended, for a client that was over it).
          if (verdict === 'ok') res.removeHeader('WWW-Authenticate');
          next(verdict === 'ok' ? undefined : unauthorizedError());
        } else if (err instanceof ApiError) next(err);
        else {
          res.setHeader('Retry-After', '5');
          next(unavailable(err));
        }
      });
    if (verdict === 'wrong') {
      void countFailure();
      return;
    }
    // Right or no credentials: refused all the same while the client is over the limit.
    store.get(clientKey(req.ip)).then(
      (info) => {
        if (info && info.totalHits >= max) {
          void countFailure();
          return;
        }
        if (verdict === 'ok') {
          res.removeHeader('WWW-Authenticate');
          next();
        } else next(unauthorizedError());
      },
      (err: unknown) => {
        res.setHeader('Retry-After', '5');
        next(unavailable(err));
      },
    );
  };
}
