import type { RequestHandler } from 'express';
import type { Logger } from '../shared/logger.ts';
import { writtenStatus } from './client-error.ts';
import type { ApiMetrics } from './metrics.ts';

/**
 * One debug line per request once it is answered (or the client left), and the request
 * counter, by the status the client was sent: the one Node's parser answered with
 * (clientError: a broken body, a body too slow), else the response's own once its
 * headers went out, else `none` (the connection closed before any answer).
 */
export function sentStatus(res: Parameters<RequestHandler>[1]): string {
  const raw = writtenStatus(res);
  if (raw !== undefined) return String(raw);
  return res.headersSent ? String(res.statusCode) : 'none';
}

export function requestLog(log: Logger, metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.on('close', () => {
      // The route pattern, not the path, keeps the metric's labels few.
      const pattern: unknown = req.route?.path;
      const route = pattern ? `${req.baseUrl}${String(Array.isArray(pattern) ? pattern[0] : pattern)}` : 'unmatched';
      const status = sentStatus(res);
      metrics.httpRequests.inc({ method: req.method, route, status });
      log.debug(
        {
          method: req.method,
          path: req.path,
          status,
          duration_ms: Math.round(performance.now() - started),
          ip: req.ip,
          completed: res.writableFinished,
        },
        'request',
      );
    });
    next();
  };
}
