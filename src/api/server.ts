import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Runtime } from '../runtime/runtime.ts';
import { databaseName, type Config } from '../config/env.ts';
import { DATABASE_KEYS } from '../catalog/services.ts';
import { createQueues } from '../flows/queues.ts';
import type { Logger } from '../shared/logger.ts';
import { createApp } from './app.ts';
import { onClientError } from './client-error.ts';
import { BOARD_PATH, bullBoardRouter } from './bull-board.ts';
import { ApiMetrics } from './metrics.ts';
import { listProfiles } from '../seed/profile.ts';
import { startQueueEventsFeed } from './queue-events.ts';
import { countByStatus, sessionTiming } from '../db/sql/session-counts.ts';
import { SessionStreams, type SseOptions } from './sse.ts';

export interface RunningApi {
  readonly server: http.Server;
  readonly app: Express;
  /** `http://host:port` the server listens on. */
  readonly url: string;
  readonly metrics: ApiMetrics;
  readonly streams: SessionStreams;
  /** Resolves once the metrics' event streams are connected (tests wait for it). */
  readonly eventsReady: Promise<void>;
  /** Stops taking requests, ends event streams, closes the queues' connections. Not the runtime. */
  close(): Promise<void>;
}

export interface ApiOptions {
  readonly sse?: Partial<SseOptions>;
  /** How long close() waits for requests in flight before cutting connections. */
  readonly closeTimeoutMs?: number;
  /** Bound on create/destroy calls once Redis looked connected (default QUEUE_CALL_TIMEOUT_MS). */
  readonly queueTimeoutMs?: number;
}

/**
 * The HTTP server and its bounds (config: HTTP_*). `requestTimeout` and `headersTimeout`
 * run from a request's first byte until it is wholly received (Node's parser), so a
 * slow body or slow headers are answered 408 and closed, while a response, however
 * long (an event stream), is not cut. Node checks them every `connectionsCheckingInterval`
 * (30 s by default, which would stretch a 10 s bound to 40 s): here a quarter of the
 * shorter bound, at most 1 s. A connection that sends nothing is cut by headersTimeout
 * too; an idle keep-alive one by keepAliveTimeout. Malformed requests are answered by
 * onClientError, in the error shape, and counted as what they were sent.
 */
export function createHttpServer(
  app: http.RequestListener,
  cfg: Config,
  log: Logger,
  metrics?: ApiMetrics,
): http.Server {
  const requestTimeout = cfg.HTTP_REQUEST_TIMEOUT_MS;
  const headersTimeout = Math.min(cfg.HTTP_HEADERS_TIMEOUT_MS, requestTimeout);
  const server = http.createServer(
    {
      requestTimeout,
      headersTimeout,
      keepAliveTimeout: cfg.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(headersTimeout / 4))),
    },
    app,
  );
  server.keepAliveTimeout = cfg.HTTP_KEEP_ALIVE_TIMEOUT_MS;
  server.maxConnections = cfg.HTTP_MAX_CONNECTIONS;
  server.on(
    'clientError',
    onClientError(log, (status) =>
      metrics?.httpRequests.inc({ method: 'unknown', route: 'unparsed', status: String(status) }),
    ),
  );
  let lastDropLog = 0;
  server.on('drop', () => {
    metrics?.connectionsDropped.inc();
    // At most one line every 10 s: a flood must not flood the log too.
    if (Date.now() - lastDropLog >= 10_000) {
      lastDropLog = Date.now();
      log.warn(
        { max_connections: cfg.HTTP_MAX_CONNECTIONS },
        'connection refused: HTTP_MAX_CONNECTIONS connections are open',
      );
    }
  });
  return server;
}

/** Serves the HTTP API and Bull Board on HOST:PORT with the runtime's producer, databases and Redis. */
export async function startApi(
  cfg: Config,
  runtime: Pick<Runtime, 'producer' | 'dbs' | 'redis'>,
  log: Logger,
  opts: ApiOptions = {},
): Promise<RunningApi> {
  const db = runtime.dbs.pool('demo_session');
  const metrics = new ApiMetrics(() => countByStatus(db), log);
  const streams = new SessionStreams((id) => runtime.producer.snapshot(id), log, {
    maxStreams: cfg.SSE_MAX_STREAMS,
    maxPerClient: cfg.SSE_MAX_PER_CLIENT,
    ...opts.sse,
  });
  const feed = startQueueEventsFeed(cfg, {
    metrics,
    log,
    sessionTiming: (id) => sessionTiming(db, id),
    onSessionEvent: (id) => streams.nudge(id),
    onServiceDone: (id) => streams.progressed(id),
  });
  feed.ready.catch(() => undefined); // with Redis down it never resolves before close(); errors are logged by the feed
  const queues = createQueues(cfg, runtime.redis);
  metrics.watchQueues(queues, log);
  metrics.watchDependencies(async () => {
    const [redis, down] = await Promise.all([
      runtime.redis.ping().then(
        () => true,
        () => false,
      ),
      runtime.dbs.unreachable(),
    ]);
    const gone = new Set(down.map((d) => d.database));
    return { redis, ...Object.fromEntries(DATABASE_KEYS.map((k) => [databaseName(cfg, k), !gone.has(k)])) };
  }, log);
  const profiles = listProfiles(cfg.SEED_DATA_DIR);
  if (profiles.length === 0)
    log.warn({ dir: cfg.SEED_DATA_DIR }, 'no seed-data profile found: every POST will be answered 400');

  const release = () =>
    Promise.all([feed.close(), ...[...queues.values()].map((q) => q.close().catch(() => undefined))]);
  let app: Express;
  let server: http.Server;
  try {
    app = createApp({
      cfg,
      log,
      producer: runtime.producer,
      redis: runtime.redis,
      dbs: runtime.dbs,
      profiles,
      metrics,
      streams,
      board: bullBoardRouter(cfg, queues.values(), log),
      queueTimeoutMs: opts.queueTimeoutMs,
    });
    server = createHttpServer(app, cfg, log, metrics);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(cfg.PORT, cfg.HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    // A bad TRUST_PROXY, a port in use: nothing may stay open behind the error.
    await release();
    throw err;
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  void runtime.producer.warmUp(profiles);
  log.info(
    { url, profiles, board: `${url}${BOARD_PATH}`, rate_limit_per_minute: cfg.RATE_LIMIT_PER_MINUTE },
    'HTTP API listening',
  );

  let closing: Promise<void> | undefined;
  return {
    server,
    app,
    url,
    metrics,
    streams,
    eventsReady: feed.ready,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        streams.closeAll();
        server.closeIdleConnections();
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          stopped.then(() => false),
          new Promise<boolean>((r) => {
            timer = setTimeout(() => r(true), opts.closeTimeoutMs ?? 5_000);
          }),
        ]);
        clearTimeout(timer);
        if (timedOut) {
          log.warn('requests still running at shutdown; closing their connections');
          server.closeAllConnections();
          await stopped;
        }
        await release();
        log.info('HTTP API stopped');
      })();
      return closing;
    },
  };
}
