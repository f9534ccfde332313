import express, { Router, type RequestHandler } from 'express';
import type pg from 'pg';
import { getSession } from '../../db/sql/sessions.ts';
import type { DemoAccess } from '../../sessions/access.ts';
import { ApiError, methodNotAllowed } from '../errors.ts';
import { IntrospectRequestSchema, issueDetails } from '../schemas.ts';
import { BODY_LIMIT, SESSIONS_PATH } from './sessions.ts';

/** The public keys the platform's services verify demo tokens with. */
export const JWKS_PATH = '/.well-known/jwks.json';
export const INTROSPECT_PATH = `${SESSIONS_PATH}/introspect`;

export interface AccessRoutesDeps {
  readonly access: DemoAccess;
  readonly db: pg.Pool;
}

/**
 * GET /.well-known/jwks.json and POST /api/v1/demo-sessions/introspect (RFC 7662).
 * Mounted before the session routes, whose `/:id` would take `introspect` for an id.
 */
export function accessRoutes(d: AccessRoutesDeps): Router {
  const router = Router();

  const jwks: RequestHandler = async (_req, res) => {
    // Verifiers cache it; a rotation publishes the next key before it signs (docs: rotation).
    res.set('Cache-Control', 'public, max-age=300').json(await d.access.jwks());
  };

  const formOrJson: RequestHandler = (req, _res, next) => {
    if (
      req.get('Content-Length') !== '0' &&
      req.is(['application/x-www-form-urlencoded', 'application/json']) === false
    ) {
      next(
        new ApiError(
          415,
          'unsupported_media_type',
          'send the token as application/x-www-form-urlencoded (token=…) or application/json ({"token": "…"})',
        ),
      );
      return;
    }
    next();
  };

  const introspect: RequestHandler = async (req, res) => {
    const parsed = IntrospectRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      throw new ApiError(
        400,
        'validation_error',
        'send the token to introspect in the field `token`',
        issueDetails(parsed.error),
      );
    }
    const answer = await d.access.introspect(parsed.data.token, (id) => getSession(d.db, id));
    res.set('Cache-Control', 'no-store').json(answer);
  };

  router
    .route(JWKS_PATH)
    .get(jwks)
    .all(methodNotAllowed(['GET']));
  router
    .route(INTROSPECT_PATH)
    .post(
      formOrJson,
      express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 20 }),
      express.json({ limit: BODY_LIMIT, strict: true }),
      introspect,
    )
    .all(methodNotAllowed(['POST']));
  return router;
}
