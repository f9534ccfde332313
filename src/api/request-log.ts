import type { RequestHandler } from 'express';
import type { Logger } from '../logger.ts';
import type { ApiMetrics } from './metrics.ts';

/** One debug line per request once it is answered (or the client left), and the request counter. */
export function requestLog(log: Logger, metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.on('close', () => {
      // The route pattern, not the path, keeps the metric's labels few.
      const pattern: unknown = req.route?.path;
      const route = pattern ? `${req.baseUrl}${String(Array.isArray(pattern) ? pattern[0] : pattern)}` : 'unmatched';
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      log.debug(
        { method: req.method, path: req.path, status: res.statusCode, duration_ms: Math.round(performance.now() - started), ip: req.ip, completed: res.writableFinished },
        'request',
      );
    });
    next();
  };
}
