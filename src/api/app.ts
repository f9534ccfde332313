import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Redis } from 'ioredis';
import type { Config } from '../config/env.ts';
import type { Databases } from '../db/pools.ts';
import type { Logger } from '../shared/logger.ts';
import type { SessionProducer } from '../sessions/create-session.ts';
import { demoAccess, type DemoAccess } from '../sessions/access.ts';
import { adminLogin } from './admin-login.ts';
import { BOARD_PATH } from './bull-board.ts';
import { cors } from './cors.ts';
import { errorHandler, notFound } from './errors.ts';
import type { ApiMetrics } from './metrics.ts';
import { buildOpenApiDocument, OPENAPI_PATH } from './openapi.ts';
import { createRateLimit } from './rate-limit.ts';
import { requestLog } from './request-log.ts';
import { accessRoutes, JWKS_PATH } from './routes/access.ts';
import { healthRoutes } from './routes/health.ts';
import { demoPageRoutes } from './routes/demo-page.ts';
import { sessionRoutes } from './routes/sessions.ts';
import type { SessionStreams } from './sse.ts';
import { applyTrustProxy } from './trust-proxy.ts';

/** Everything the HTTP app uses, injected: server.ts wires the real ones, tests may too. */
export interface AppDeps {
  readonly cfg: Config;
  readonly log: Logger;
  readonly producer: SessionProducer;
  readonly redis: Redis;
  readonly dbs: Databases;
  /** Demo account types on offer (profile folders of SEED_DATA_DIR). */
  readonly profiles: readonly string[];
  readonly metrics: ApiMetrics;
  readonly streams: SessionStreams;
  /** The Bull Board router (auth included), mounted at /admin/queues. */
  readonly board?: RequestHandler;
  /** Bound on create/destroy calls that reach Redis (default QUEUE_CALL_TIMEOUT_MS). */
  readonly queueTimeoutMs?: number;
  /** The demo tokens' signer and verifier (default: over DEMO_TOKEN_PRIVATE_KEY or the key kept in bakery_demo_session). */
  readonly access?: DemoAccess;
}

export function createApp(d: AppDeps): Express {
  const app = express();
  applyTrustProxy(app, d.cfg.TRUST_PROXY);
  app.set('x-powered-by', false);
  app.set('etag', false);
  app.set('env', 'production'); // no HTML error pages with stack traces, even if something slipped past errorHandler
  app.use(requestLog(d.log, d.metrics));
  app.use(helmet());
  // Browsers of CORS_ORIGINS may call the API and read the keys; never the board.
  if (d.cfg.CORS_ORIGINS.length > 0) app.use(['/api', JWKS_PATH], cors(d.cfg.CORS_ORIGINS));

  app.use(healthRoutes({ redis: d.redis, dbs: d.dbs, cfg: d.cfg, log: d.log }));
  app.get('/metrics', d.metrics.handler());
  const openapi = buildOpenApiDocument(d.profiles, undefined, d.cfg.DEMO_SESSION_MAX_TTL_SECONDS);
  app.get(OPENAPI_PATH, (_req, res) => {
    res.json(openapi);
  });
  // GET /demo: the prospect's page; its script and style are routes of their own (the CSP allows no inline code).
  app.use(demoPageRoutes(d.profiles));
  const access = d.access ?? demoAccess(d.cfg, d.dbs.pool('demo_session'));
  // The keys are read (or generated) ahead of the first POST; a failure is retried on use.
  access.ready().then(
    (k) => d.log.info({ kid: k.signing.kid, alg: k.signing.alg, source: k.signing.source }, 'demo tokens: signing key'),
    (err: unknown) =>
      d.log.warn({ err: (err as Error).message }, 'demo tokens: signing key not read yet; retried on use'),
  );
  app.use(accessRoutes({ access, db: d.dbs.pool('demo_session') }));
  app.use(
    sessionRoutes({
      cfg: d.cfg,
      log: d.log,
      producer: d.producer,
      redis: d.redis,
      db: d.dbs.pool('demo_session'),
      profiles: d.profiles,
      metrics: d.metrics,
      streams: d.streams,
      rateLimit: createRateLimit(d.cfg.RATE_LIMIT_PER_MINUTE, d.log, { redis: d.redis, prefix: d.cfg.QUEUE_PREFIX }),
      queueTimeoutMs: d.queueTimeoutMs,
      access,
    }),
  );
  // Failed board logins are counted per client in Redis (every replica) before the board's own auth.
  if (d.board) app.use(BOARD_PATH, adminLogin(d.cfg, d.log, d.redis), d.board);

  app.use(notFound);
  app.use(errorHandler(d.log));
  return app;
}
