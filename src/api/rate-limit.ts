import type { RequestHandler } from 'express';
import { rateLimit, type Options } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Logger } from '../shared/logger.ts';
import { ApiError } from './errors.ts';

/**
 * rate-limit-redis loads its Lua scripts once, in init(); if Redis is away then, the
 * store keeps the rejected load and fails every later request even after Redis is
 * back. Here a failed load leaves a sha Redis does not know, so the first request
 * after Redis returns gets NOSCRIPT, which the store answers by loading the script.
 */
class RecoveringRedisStore extends RedisStore {
  override async init(options: Options): Promise<void> {
    this.windowMs = options.windowMs;
    const unloaded = () => '0000000000000000000000000000000000000000';
    this.incrementScriptSha = this.loadIncrementScript().catch(unloaded);
    this.getScriptSha = this.loadGetScript().catch(unloaded);
    await Promise.all([this.incrementScriptSha, this.getScriptSha]);
  }
}

/** A rate-limit store whose counters live in Redis under `prefix` (keys `<prefix><client>`), shared by every replica. */
export function redisLimitStore(redis: Redis, prefix: string): RedisStore {
  return new RecoveringRedisStore({
    sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
    prefix,
  });
}

/**
 * The per-client limit on session creation: RATE_LIMIT_PER_MINUTE requests per
 * minute per client address (`req.ip`, so TRUST_PROXY decides what a client is;
 * IPv6 clients are grouped by /56). Standard `RateLimit`/`RateLimit-Policy`
 * headers (IETF draft 8) and `Retry-After` on 429. Undefined when the limit is 0 (off).
 * With `shared`, the counters live in Redis (rate-limit-redis, keys `<prefix>:rate-limit:*`),
 * so every API replica counts against one limit; should Redis not answer, the request
 * goes on (and POST then answers 503 itself). Without it they live in this process.
 */
export function createRateLimit(
  perMinute: number,
  log: Logger,
  shared?: { redis: Redis; prefix: string },
): RequestHandler | undefined {
  if (perMinute <= 0) return undefined;
  const store = shared ? redisLimitStore(shared.redis, `${shared.prefix}:rate-limit:`) : undefined;
  return rateLimit({
    ...(store ? { store, passOnStoreError: true } : {}),
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'demo-sessions',
    handler: (_req, _res, next) => {
      next(
        new ApiError(
          429,
          'rate_limited',
          `too many demo sessions requested: at most ${perMinute} per minute per client; retry later`,
        ),
      );
    },
    logger: {
      error: (err, message) => log.error({ err: (err as Error)?.message }, message ?? 'rate limit error'),
      warn: (err, message) => log.warn({ err: (err as Error)?.message }, message ?? 'rate limit warning'),
    },
  });
}
