import { createHash } from 'node:crypto';
import express, { Router, type RequestHandler, type Response } from 'express';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Config } from '../../config/env.ts';
import type { Logger } from '../../shared/logger.ts';
import { EmailCapReachedError, type SessionProducer } from '../../sessions/create-session.ts';
import type { Access, DemoAccess, DemoClaims } from '../../sessions/access.ts';
import { MaxTtlExceededError, SessionExpiringError, SessionNotExtendableError } from '../../sessions/extend-session.ts';
import type { SessionRecord } from '../../db/sql/sessions.ts';
import { sessionView, type SessionSnapshot, type SessionView } from '../../sessions/session-view.ts';
import { ApiError, methodNotAllowed } from '../errors.ts';
import type { ApiMetrics } from '../metrics.ts';
import { withQueue } from '../queue-guard.ts';
import {
  createSessionSchema,
  extendSessionSchema,
  IDEMPOTENCY_HEADER,
  IdempotencyKeySchema,
  issueDetails,
  SessionIdSchema,
  type CreateSessionBody,
} from '../schemas.ts';
import { headOfStream, streamClient, type SessionStreams } from '../sse.ts';

export const SESSIONS_PATH = '/api/v1/demo-sessions';
/** The largest POST body accepted; anything bigger is answered 413. */
export const BODY_LIMIT = '16kb';

export interface SessionRoutesDeps {
  readonly cfg: Config;
  readonly log: Logger;
  readonly producer: SessionProducer;
  readonly redis: Redis;
  readonly db: pg.Pool;
  readonly profiles: readonly string[];
  readonly metrics: ApiMetrics;
  readonly streams: SessionStreams;
  /** The per-client limit on POST, if on. */
  readonly rateLimit?: RequestHandler;
  /** Bound on a create/destroy call once Redis looked connected (default QUEUE_CALL_TIMEOUT_MS). */
  readonly queueTimeoutMs?: number;
  /** Signs the demo tokens POST and PATCH answer with, and verifies PATCH's Bearer token. */
  readonly access: DemoAccess;
}

/** The Idempotency-Key header, if sent; 400 when it is not 1-255 visible ASCII characters. */
function idempotencyKey(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const parsed = IdempotencyKeySchema.safeParse(raw);
  if (!parsed.success) {
    throw new ApiError(400, 'validation_error', `the ${IDEMPOTENCY_HEADER} header is not valid`, [
      { path: `headers.${IDEMPOTENCY_HEADER.toLowerCase()}`, message: parsed.error.issues[0]?.message ?? 'invalid' },
    ]);
  }
  return parsed.data;
}

/** What makes two POSTs the same request: the profile, the email (any case) and the tier. */
function requestFingerprint(body: CreateSessionBody): string {
  return createHash('sha256')
    .update(JSON.stringify([body.demo_account_type, body.email.toLowerCase(), body.subscription_tier ?? null]))
    .digest('hex');
}

/** POST/GET/DELETE /api/v1/demo-sessions[/{id}[/events]]. */
export function sessionRoutes(d: SessionRoutesDeps): Router {
  const router = Router();
  const bodySchema = createSessionSchema(d.profiles);

  const requireJson: RequestHandler = (req, _res, next) => {
    // No body at all (or an empty one) falls through to validation ("is required").
    if (req.get('Content-Length') !== '0' && req.is('application/json') === false) {
      next(new ApiError(415, 'unsupported_media_type', 'send the body as application/json'));
      return;
    }
    next();
  };

  /**
   * A fresh demo token for the session's main user (a replay gets one too: same claims, a
   * new jti and iat); null for a profile that names no main user (manifest.owner).
   */
  const accessFor = async (record: SessionRecord): Promise<Access | null> => {
    const user = await d.producer.mainUser(record);
    return user ? d.access.issue(record, user) : null;
  };

  /** 202 with the session and its `access`; a replay (a key seen before) says so in `Idempotent-Replayed: true`. */
  const answer = async (res: Response, record: SessionRecord, replayed: boolean) => {
    const access = await accessFor(record);
    if (replayed) res.set('Idempotent-Replayed', 'true');
    // It carries a credential: no cache keeps it.
    res.set('Cache-Control', 'no-store');
    res.status(202).location(`${SESSIONS_PATH}/${record.session_id}`).json({
      session_id: record.session_id,
      status: record.status,
      demo_account_type: record.demo_account_type,
      tenant_id: record.tenant_id,
      tenant_ids: record.tenant_ids,
      expires_at: record.expires_at.toISOString(),
      access,
    });
  };

  /** The session a key made earlier, if the request is the same one; a different request under it is 422. */
  const replayable = (record: SessionRecord, fingerprint: string): SessionRecord => {
    if (record.request_fingerprint !== fingerprint) {
      throw new ApiError(
        422,
        'idempotency_key_reused',
        'this Idempotency-Key was used with a different request body; use a new key for a new request',
      );
    }
    return record;
  };

  const create: RequestHandler = async (req, res) => {
    const key = idempotencyKey(req.get(IDEMPOTENCY_HEADER));
    const parsed = bodySchema.safeParse(req.body);
    if (!parsed.success) {
      throw new ApiError(400, 'validation_error', 'the request body is not valid', issueDetails(parsed.error));
    }
    const body = parsed.data;
    // The signing key first: a session is not made when its token could not be signed.
    await d.access.ready();
    const idempotency = key === undefined ? undefined : { key, fingerprint: requestFingerprint(body) };
    // A retry of a request that made its session answers with it, before any limit applies.
    const earlier = idempotency && (await d.producer.findByIdempotencyKey(idempotency.key));
    if (idempotency && earlier) {
      await answer(res, replayable(earlier, idempotency.fingerprint), true);
      return;
    }
    // The per-email cap (MAX_SESSIONS_PER_EMAIL) is the producer's: counted in PostgreSQL with the insert.
    const input = {
      profile: body.demo_account_type,
      email: body.email,
      subscriptionTier: body.subscription_tier ?? null,
      maxPerEmail: d.cfg.MAX_SESSIONS_PER_EMAIL,
    };
    let created: { record: SessionRecord; replayed: boolean };
    try {
      created = await withQueue(
        d.redis,
        async () =>
          idempotency
            ? d.producer.createOnce({ ...input, idempotency })
            : { record: await d.producer.create(input), replayed: false },
        (err, late) => {
          if (!late) {
            d.log.warn(
              { err: (err as Error | undefined)?.message },
              'session creation failed after its request timed out',
            );
            return;
          }
          if (idempotency) {
            // A retry with the same key will be answered with it.
            d.log.warn(
              { session_id: late.record.session_id },
              'session created after its request was answered 503; kept for a retry with its Idempotency-Key',
            );
            return;
          }
          // The client was answered 503 and may well retry: the session it does not know of goes.
          d.log.warn(
            { session_id: late.record.session_id },
            'session created after its request was answered 503; destroying it',
          );
          d.producer
            .destroy(late.record.session_id)
            .catch((e: unknown) =>
              d.log.error(
                { session_id: late.record.session_id, err: (e as Error).message },
                'could not destroy the late session; the reconciler or its TTL will',
              ),
            );
        },
        d.queueTimeoutMs,
      );
    } catch (err) {
      if (err instanceof EmailCapReachedError) {
        throw new ApiError(
          429,
          'too_many_sessions',
          `this email (any letter case, any +tag) already has ${err.live} live demo session(s), the most allowed; delete one or wait until one expires`,
        );
      }
      throw err;
    }
    const { record, replayed } = created;
    if (replayed && idempotency) {
      // Another request (or replica) made it under the same key meanwhile.
      await answer(res, replayable(record, idempotency.fingerprint), true);
      return;
    }
    d.metrics.sessionsCreated.inc({ demo_account_type: record.demo_account_type });
    d.log.info({ session_id: record.session_id, demo_account_type: record.demo_account_type }, 'session created');
    await answer(res, record, false);
  };

  /** The session of `:id`, or 400 (not a uuid) / 404 (unknown). */
  const loadSnapshot = async (id: string | undefined): Promise<SessionSnapshot> => {
    if (!SessionIdSchema.safeParse(id).success)
      throw new ApiError(400, 'invalid_session_id', 'the session id must be a uuid');
    const snap = await d.producer.snapshot(id as string);
    if (!snap) throw new ApiError(404, 'session_not_found', 'no such session');
    return snap;
  };
  const load = async (id: string | undefined): Promise<SessionView> => (await loadSnapshot(id)).view;

  const get: RequestHandler<{ id: string }> = async (req, res) => {
    res.json(await load(req.params.id));
  };

  const destroy: RequestHandler<{ id: string }> = async (req, res) => {
    const before = await load(req.params.id);
    if (before.status === 'destroyed' || before.status === 'expired') {
      res.status(202).json(before);
      return;
    }
    // withQueue checks Redis before the session moves to destroying, so a 503 leaves it as it was.
    const after = await withQueue(
      d.redis,
      () => d.producer.destroy(before.session_id),
      (err) =>
        d.log.warn(
          { session_id: before.session_id, err: err ? (err as Error).message : undefined },
          'destroy finished after its request timed out',
        ),
      d.queueTimeoutMs,
    );
    if (!after) throw new ApiError(404, 'session_not_found', 'no such session');
    d.log.info({ session_id: after.session_id }, 'session destroy requested');
    res.status(202).json(after);
  };

  const events: RequestHandler<{ id: string }> = async (req, res) => {
    // The slot is taken before the first await (a burst cannot pass an uncounted check),
    // and comes back when the response closes, however it ends.
    const slot = d.streams.acquire(streamClient(req), res);
    try {
      d.streams.stream(req, res, await loadSnapshot(req.params.id), slot);
    } catch (err) {
      slot.release();
      throw err;
    }
  };

  /**
   * PATCH's Bearer token: a demo token of this service (any of its keys, the configured
   * issuer and audience, unexpired) for the session of the path; 401 without a token or
   * with one that does not verify, 403 with another session's. Before the body is read.
   */
  const authorizeSession: RequestHandler<{ id: string }> = async (req, res, next) => {
    if (!SessionIdSchema.safeParse(req.params.id).success)
      throw new ApiError(400, 'invalid_session_id', 'the session id must be a uuid');
    const m = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i.exec(req.get('Authorization') ?? '');
    if (!m) {
      res.set('WWW-Authenticate', 'Bearer realm="demo-sessions"');
      throw new ApiError(
        401,
        'unauthorized',
        "send the session's token: Authorization: Bearer <access.token of the POST answer>",
      );
    }
    const claims = await d.access.verify(m[1]);
    if (!claims) {
      res.set('WWW-Authenticate', 'Bearer realm="demo-sessions", error="invalid_token"');
      throw new ApiError(
        401,
        'invalid_token',
        'the token is not valid here: a bad signature, another issuer or audience, or expired',
      );
    }
    if (claims.sid !== req.params.id.toLowerCase())
      throw new ApiError(403, 'forbidden', "this token is another session's; send the token of this session");
    res.locals.claims = claims satisfies DemoClaims;
    next();
  };

  const extendBody = extendSessionSchema(d.cfg.DEMO_SESSION_MAX_TTL_SECONDS);
  /** PATCH {extend_seconds}: 200 with the session and a fresh `access` (the new exp). */
  const extend: RequestHandler<{ id: string }> = async (req, res) => {
    const parsed = extendBody.safeParse(req.body);
    if (!parsed.success) {
      throw new ApiError(400, 'validation_error', 'the request body is not valid', issueDetails(parsed.error));
    }
    const id = req.params.id.toLowerCase();
    let record: SessionRecord | undefined;
    try {
      record = await withQueue(
        d.redis,
        () => d.producer.extend(id, parsed.data.extend_seconds),
        (err) =>
          d.log.warn(
            { session_id: id, err: err ? (err as Error).message : undefined },
            'extension finished after its request timed out',
          ),
        d.queueTimeoutMs,
      );
    } catch (err) {
      if (err instanceof MaxTtlExceededError) {
        throw new ApiError(
          422,
          'max_ttl_exceeded',
          `a session lives at most DEMO_SESSION_MAX_TTL_SECONDS (${err.maxTtlSeconds} s) after its creation; this one may be extended by ${err.remainingSeconds} s at most`,
          [{ path: 'extend_seconds', message: `must be at most ${err.remainingSeconds} for this session` }],
        );
      }
      if (err instanceof SessionNotExtendableError)
        throw new ApiError(
          409,
          'session_not_ready',
          `the session is ${err.status}; only a ready session can be extended`,
        );
      if (err instanceof SessionExpiringError)
        throw new ApiError(
          409,
          'session_expiring',
          'the session has reached its expiry and is ending; it cannot be extended',
        );
      throw err;
    }
    if (!record) throw new ApiError(404, 'session_not_found', 'no such session');
    d.log.info({ session_id: id, expires_at: record.expires_at.toISOString() }, 'session extended');
    const access = await accessFor(record);
    res.set('Cache-Control', 'no-store').json({ ...sessionView(record), access });
  };

  /** HEAD on /events: the status and headers GET would answer, without a stream or a slot. */
  const eventsHead: RequestHandler<{ id: string }> = async (req, res) => {
    headOfStream(req, res, await loadSnapshot(req.params.id));
  };

  const parseBody = express.json({ limit: BODY_LIMIT, strict: true });
  const limit: RequestHandler[] = d.rateLimit ? [d.rateLimit] : [];
  router
    .route(SESSIONS_PATH)
    .post(...limit, requireJson, parseBody, create)
    .all(methodNotAllowed(['POST']));
  router
    .route(`${SESSIONS_PATH}/:id`)
    .get(get)
    .patch(authorizeSession, requireJson, parseBody, extend)
    .delete(destroy)
    .all(methodNotAllowed(['GET', 'PATCH', 'DELETE']));
  router
    .route(`${SESSIONS_PATH}/:id/events`)
    .head(eventsHead)
    .get(events)
    .all(methodNotAllowed(['GET', 'HEAD']));
  return router;
}
