import { createHash, timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { Router, type Express, type RequestHandler, type Response } from 'express';
import type { Config } from '../config/env.ts';
import type { Logger } from '../shared/logger.ts';
import { ApiError, toApiError } from './errors.ts';
import { applyTrustProxy } from './trust-proxy.ts';

/**
 * Bull Board at /admin/queues: every queue of QUEUE_NAMES (the flows' parents and
 * children link to each other), behind HTTP basic auth with ADMIN_USER and
 * ADMIN_PASSWORD. Without both, the board answers 401 to everyone.
 *
 * Jobs' data is never set by hand: with BOARD_READ_ONLY (the default) the board
 * changes nothing, and otherwise it may only retry failed jobs and promote delayed
 * ones. Every other request that is not GET or HEAD is refused here with 403, before
 * the board sees it, and so is any such request a browser sends from another site.
 * Failed logins are limited per client by admin-login.ts, mounted in front (app.ts).
 */
export const BOARD_PATH = '/admin/queues';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** What an `Authorization` header is worth against the configured pair. */
export type Credentials = 'locked' | 'missing' | 'wrong' | 'ok';

/** Constant-time check of `Authorization: Basic ...` against ADMIN_USER/ADMIN_PASSWORD. */
export function adminCredentials(
  user: string | undefined,
  password: string | undefined,
): (header: string | undefined) => Credentials {
  const expected =
    user !== undefined && password !== undefined ? { user: digest(user), password: digest(password) } : undefined;
  return (header) => {
    if (!expected) return 'locked';
    if (header === undefined || header === '') return 'missing';
    const m = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
    const decoded = m ? Buffer.from(m[1] as string, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    // Both comparisons always run, on fixed-length digests, so timing tells nothing.
    const userOk = timingSafeEqual(digest(colon >= 0 ? decoded.slice(0, colon) : ''), expected.user);
    const passwordOk = timingSafeEqual(digest(colon >= 0 ? decoded.slice(colon + 1) : ''), expected.password);
    return m && colon >= 0 && userOk && passwordOk ? 'ok' : 'wrong';
  };
}

export const realmHeader = (realm = 'demo-seed admin') => `Basic realm="${realm}", charset="UTF-8"`;

export const lockedError = () =>
  new ApiError(401, 'unauthorized', 'the admin board is locked: the server has no ADMIN_USER/ADMIN_PASSWORD');
export const unauthorizedError = () => new ApiError(401, 'unauthorized', 'admin credentials required');

/** HTTP basic auth with the configured pair, 401 otherwise (failures are counted by admin-login.ts). */
export function basicAuth(user: string | undefined, password: string | undefined, realm?: string): RequestHandler {
  const check = adminCredentials(user, password);
  return (req, res, next) => {
    res.setHeader('WWW-Authenticate', realmHeader(realm));
    const verdict = check(req.get('Authorization'));
    if (verdict === 'ok') {
      res.removeHeader('WWW-Authenticate');
      next();
      return;
    }
    next(verdict === 'locked' ? lockedError() : unauthorizedError());
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * A request that changes something must come from the board's own pages: a browser
 * says where a request comes from in `Sec-Fetch-Site` and `Origin`. Without either
 * (curl, scripts) it goes on; a cross-site form or fetch, which carries the basic-auth
 * credentials the browser cached, is refused. The request's own origin is its scheme and
 * Host as Express sees them, so X-Forwarded-Proto/-Host count only behind TRUST_PROXY.
 */
export const sameOriginOnly: RequestHandler = (req, _res, next) => {
  if (SAFE_METHODS.has(req.method)) {
    next();
    return;
  }
  const site = req.get('Sec-Fetch-Site');
  if (site !== undefined && site.trim().toLowerCase() !== 'same-origin') {
    next(
      new ApiError(
        403,
        'cross_site_request',
        `the board refuses changes sent from another site (Sec-Fetch-Site: ${site.slice(0, 40)})`,
      ),
    );
    return;
  }
  const origin = req.get('Origin');
  const own = `${req.protocol}://${req.host ?? ''}`.toLowerCase();
  if (origin !== undefined && origin.trim().toLowerCase() !== own) {
    next(new ApiError(403, 'cross_site_request', 'the board refuses changes sent from another origin than its own'));
    return;
  }
  next();
};

/** The board API's routes that may change something when BOARD_READ_ONLY=false. */
type Allowed =
  | { kind: 'retry-job' | 'promote-job'; queue: string; jobId: string }
  | { kind: 'retry-failed' | 'promote-all'; queue: string };

/** Segments of the path under the board, decoded; undefined if one cannot be decoded. */
function segments(path: string): string[] | undefined {
  try {
    return path
      .split('/')
      .slice(1)
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

/**
 * The words the library's routes have where `:jobId` stands in `/api/queues/:queueName/:jobId/retry`:
 * its router, which matches case-insensitively and tries `clean/:queueStatus` before
 * `:jobId/retry`, would take `PUT …/clean/retry` for "clean every job of status retry".
 */
const ROUTE_WORDS = new Set([
  'add',
  'retry',
  'promote',
  'clean',
  'pause',
  'resume',
  'concurrency',
  'rate-limit',
  'empty',
  'obliterate',
  'job-schedulers',
  'metrics',
  'default-job-options',
  'workers',
  'job-data-schema',
]);

/** Matches the library's routes exactly (lower-case, no trailing slash); anything else is refused. */
function allowedAction(method: string, path: string): Allowed | undefined {
  if (method !== 'PUT') return undefined;
  const s = segments(path);
  if (!s || s[0] !== 'api' || s[1] !== 'queues' || s.some((x) => x === '')) return undefined;
  const queue = s[2] as string;
  if (s.length === 4 && s[3] === 'promote') return { kind: 'promote-all', queue };
  if (s.length === 5 && s[3] === 'retry') return s[4] === 'failed' ? { kind: 'retry-failed', queue } : undefined;
  const jobId = s[3] as string;
  if (s.length !== 5 || ROUTE_WORDS.has(jobId.toLowerCase())) return undefined;
  if (s[4] === 'retry') return { kind: 'retry-job', queue, jobId };
  if (s[4] === 'promote') return { kind: 'promote-job', queue, jobId };
  return undefined;
}

/**
 * Read-only: nothing but GET/HEAD gets through. Otherwise retrying failed jobs (one,
 * or all of a queue's failed ones) and promoting delayed ones; adding jobs, cleaning,
 * removing, emptying, pausing, resuming, obliterating, setting data, delay, priority,
 * concurrency or rate limits all stay refused, on our side, whatever the library allows.
 */
export function boardChanges(readOnly: boolean, queues: ReadonlyMap<string, Queue>): RequestHandler {
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method)) {
      next();
      return;
    }
    if (readOnly) {
      next(
        new ApiError(
          403,
          'board_read_only',
          'the board is read-only (BOARD_READ_ONLY=true): it shows queues and jobs but changes nothing',
        ),
      );
      return;
    }
    const action = allowedAction(req.method, req.path);
    if (!action) {
      next(
        new ApiError(
          403,
          'board_action_refused',
          'the board may only retry failed jobs and promote delayed ones; adding, cleaning, removing, pausing or obliterating jobs and queues, or changing their data, is refused',
        ),
      );
      return;
    }
    const queue = queues.get(action.queue);
    if (action.kind !== 'retry-job' || !queue) {
      next(); // an unknown queue gets the board's own 404
      return;
    }
    queue.getJobState(action.jobId).then(
      (state) => {
        if (state === 'unknown' || state === 'failed')
          next(); // unknown: the board's own 404
        else next(new ApiError(403, 'board_action_refused', `only a failed job may be retried; this one is ${state}`));
      },
      (err: unknown) => next(err),
    );
  };
}

/** `ERRORS.QUEUE_NOT_FOUND` -> `queue_not_found`, `queue not found`. */
const keyCode = (key: string) =>
  key
    .replace(/^ERRORS\./, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_');

/** Values the board's UI interpolates into its translated message (state, status, field): plain ones only. */
function plainOptions(options: unknown): Record<string, string | number> | undefined {
  if (typeof options !== 'object' || options === null) return undefined;
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(options))
    if (typeof v === 'string' || typeof v === 'number') out[k] = typeof v === 'string' ? v.slice(0, 200) : v;
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The board's own error bodies (`{"error": {"key": "ERRORS.X", ...}, "message", "details"}`)
 * in the service's shape, `{"error": {"code", "message"}}`, nothing else from the library.
 * `key` (and its plain `options`) stay inside `error` so the board's UI can still show its
 * translated message; 403s and 5xx of ours get the UI's FORBIDDEN / INTERNAL_SERVER_ERROR key.
 */
export function boardErrorBody(status: number, body: unknown): unknown {
  const error = (body as { error?: unknown } | null)?.error as
    { code?: unknown; message?: unknown; key?: unknown; options?: unknown } | undefined;
  if (typeof error?.code === 'string' && typeof error.message === 'string') {
    if (error.key !== undefined) return body;
    const key = status === 403 ? 'ERRORS.FORBIDDEN' : status >= 500 ? 'ERRORS.INTERNAL_SERVER_ERROR' : undefined;
    return key ? { ...(body as object), error: { ...error, key } } : body;
  }
  const key =
    typeof error?.key === 'string' && /^ERRORS\.[A-Z0-9_]{1,80}$/.test(error.key) && status < 500
      ? error.key
      : undefined;
  if (!key) {
    const api = toApiError({ status });
    return { error: { ...api.body().error, ...(status >= 500 ? { key: 'ERRORS.INTERNAL_SERVER_ERROR' } : {}) } };
  }
  const code = keyCode(key);
  const options = plainOptions(error?.options);
  const about = options
    ? ` (${Object.entries(options)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')})`
    : '';
  return { error: { code, message: `${code.replace(/_/g, ' ')}${about}`, key, ...(options ? { options } : {}) } };
}

/** Every JSON error answered under the board's API (by the library or by us) goes through boardErrorBody. */
const shapeBoardErrors: RequestHandler = (req, res, next) => {
  if (/^\/api(\/|$)/i.test(req.path)) {
    const json = res.json.bind(res) as Response['json'];
    res.json = ((body: unknown) =>
      json(res.statusCode >= 400 ? boardErrorBody(res.statusCode, body) : body)) as Response['json'];
  }
  next();
};

/** The board's router, auth included, to mount at BOARD_PATH. */
export function bullBoardRouter(cfg: Config, queues: Iterable<Queue>, log: Logger): Router {
  const byName = new Map([...queues].map((q) => [q.name, q]));
  const readOnly = cfg.BOARD_READ_ONLY;
  const adapter = new ExpressAdapter();
  adapter.setBasePath(BOARD_PATH);
  // The library hides and refuses its own buttons too: all of them when read-only; else
  // retries of failed jobs only (the rest are refused by boardChanges, whatever its UI shows).
  const adapterOptions = { readOnlyMode: readOnly, allowRetries: !readOnly, allowCompletedRetries: false };
  createBullBoard({
    queues: [...byName.values()].map((q) => new BullMQAdapter(q, adapterOptions)),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'demo-seed queues' } },
  });
  // What its handlers throw (a bad JSON body, Redis away): our shape, the cause in our log only.
  adapter.setErrorHandler((err: Error) => {
    const api = toApiError(err);
    if (api.status >= 500) log.error({ err: err?.message, stack: err?.stack }, 'Bull Board request failed');
    return { status: api.status as 500, body: api.body() };
  });
  // The board is an Express app of its own inside ours: it would say X-Powered-By itself.
  const boardApp = adapter.getRouter() as Express;
  boardApp.set('x-powered-by', false);
  boardApp.set('env', 'production');
  applyTrustProxy(boardApp, cfg.TRUST_PROXY);

  if (cfg.ADMIN_USER === undefined || cfg.ADMIN_PASSWORD === undefined) {
    log.warn(`Bull Board at ${BOARD_PATH} is locked (401 to everyone): set ADMIN_USER and ADMIN_PASSWORD to open it`);
  } else if (!readOnly) {
    log.warn(`Bull Board at ${BOARD_PATH} may retry failed jobs and promote delayed ones (BOARD_READ_ONLY=false)`);
  }
  const router = Router();
  router.use(
    basicAuth(cfg.ADMIN_USER, cfg.ADMIN_PASSWORD),
    shapeBoardErrors,
    sameOriginOnly,
    boardChanges(readOnly, byName),
    boardApp as unknown as RequestHandler,
  );
  return router;
}
