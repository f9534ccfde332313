import type { RequestHandler } from 'express';

/**
 * CORS for the origins of CORS_ORIGINS, and no other: a request from one of them gets
 * `Access-Control-Allow-Origin: <that origin>` (never `*`), a preflight (OPTIONS with
 * Access-Control-Request-Method) is answered 204 with the methods and headers the API
 * takes; a request from any other origin gets no CORS header at all and goes on as it
 * would (so a preflight is answered as any OPTIONS is: 405 or 404, and the browser
 * stops). Every answer says `Vary: Origin`, so a cache keeps them apart. No cookies are
 * involved (the token travels in Authorization), so no Allow-Credentials.
 */
export const CORS_METHODS = 'GET, HEAD, POST, PATCH, DELETE';
export const CORS_HEADERS = 'Authorization, Content-Type, Idempotency-Key, Last-Event-ID';
/** What a page may read of an answer, beyond the CORS-safelisted headers. */
export const CORS_EXPOSED = 'Location, Idempotent-Replayed, Retry-After, RateLimit, RateLimit-Policy';

export function cors(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    res.vary('Origin');
    const origin = req.get('Origin');
    if (origin === undefined || !allowed.has(origin)) {
      next();
      return;
    }
    res.set('Access-Control-Allow-Origin', origin);
    if (req.method === 'OPTIONS' && req.get('Access-Control-Request-Method') !== undefined) {
      res.set({
        'Access-Control-Allow-Methods': CORS_METHODS,
        'Access-Control-Allow-Headers': CORS_HEADERS,
        'Access-Control-Max-Age': '600',
      });
      res.vary('Access-Control-Request-Method').vary('Access-Control-Request-Headers');
      res.status(204).end();
      return;
    }
    res.set('Access-Control-Expose-Headers', CORS_EXPOSED);
    next();
  };
}
