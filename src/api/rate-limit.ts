import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Logger } from '../logger.ts';
import { ApiError } from './errors.ts';

/**
 * The per-client limit on session creation: RATE_LIMIT_PER_MINUTE requests per
 * minute per client address (`req.ip`, so TRUST_PROXY decides what a client is;
 * IPv6 clients are grouped by /56). Standard `RateLimit`/`RateLimit-Policy`
 * headers (IETF draft 8) and `Retry-After` on 429. Undefined when the limit is 0 (off).
 * The counters live in this process: with N replicas a client gets up to N times the limit.
 */
export function createRateLimit(perMinute: number, log: Logger): RequestHandler | undefined {
  if (perMinute <= 0) return undefined;
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'demo-sessions',
    handler: (_req, _res, next) => {
      next(new ApiError(429, 'rate_limited', `too many demo sessions requested: at most ${perMinute} per minute per client; retry later`));
    },
    logger: {
      error: (err, message) => log.error({ err: (err as Error)?.message }, message ?? 'rate limit error'),
      warn: (err, message) => log.warn({ err: (err as Error)?.message }, message ?? 'rate limit warning'),
    },
  });
}
