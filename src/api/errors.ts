import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../shared/logger.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { QueueUnavailableError } from '../sessions/errors.ts';
import { SeedDataError } from '../seed/errors.ts';

/**
 * Every answer that is not a success carries `{"error": {"code", "message"}}`
 * (contract, "HTTP API"); `details` lists validation problems field by field.
 * Nothing here ever sends a stack trace.
 */
export interface ErrorDetail {
  readonly path: string;
  readonly message: string;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: ErrorDetail[] };
}

/** An error the API answers as it is: the status, a stable code, a message for people. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: readonly ErrorDetail[],
    /** Extra top-level fields of the body (e.g. `checks` on /readyz). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }

  body(): ErrorBody & Record<string, unknown> {
    const error: ErrorBody['error'] = { code: this.code, message: this.message };
    if (this.details && this.details.length > 0) error.details = [...this.details];
    return { error, ...this.extra };
  }
}

/** Errors of body-parser, Express' router and http-errors: a 4xx status and a `type`. */
interface HttpishError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
}

const BODY_ERRORS: Record<string, { code: string; message: string }> = {
  'entity.parse.failed': { code: 'invalid_json', message: 'the request body is not valid JSON' },
  'entity.too.large': { code: 'payload_too_large', message: 'the request body is too large' },
  'encoding.unsupported': { code: 'unsupported_encoding', message: 'unsupported Content-Encoding' },
  'charset.unsupported': { code: 'unsupported_charset', message: 'unsupported charset: send UTF-8 JSON' },
  'request.aborted': { code: 'request_aborted', message: 'the request was aborted' },
  'request.size.invalid': { code: 'invalid_body', message: 'the request body does not match its Content-Length' },
};

/** What any thrown value becomes on the wire. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof QueueUnavailableError) {
    return new ApiError(503, 'queue_unavailable', 'the job queue is not reachable; try again shortly');
  }
  if (err instanceof SeedDataError) {
    return new ApiError(422, 'profile_unavailable', 'this demo account type cannot be loaded right now');
  }
  const h = err as HttpishError;
  const status = h?.status ?? h?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const known = h.type ? BODY_ERRORS[h.type] : undefined;
    if (known) return new ApiError(status, known.code, known.message);
    return new ApiError(status, status === 404 ? 'not_found' : 'bad_request', 'the request could not be understood');
  }
  if (isDatabaseUnavailable(err))
    return new ApiError(503, 'database_unavailable', 'the session database is not available; try again shortly');
  return new ApiError(500, 'internal_error', 'an unexpected error occurred');
}

/** Seconds a client is told to wait (`Retry-After`) before it retries a 503. */
export const RETRY_AFTER_SECONDS = 5;

export function sendError(res: Parameters<RequestHandler>[1], err: ApiError): void {
  // The client is gone (an aborted body): nothing can be sent, and nothing is counted as sent.
  if (res.destroyed || res.socket?.destroyed === true) return;
  if (res.headersSent) {
    res.end();
    return;
  }
  // Every 503 (a database, Redis, the stream cap, not ready) says when to come back.
  if (err.status === 503 && res.getHeader('Retry-After') === undefined)
    res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
  res.status(err.status).json(err.body());
}

/** The last middleware: logs what is not the client's fault, answers in the error shape. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const api = toApiError(err);
    const fields = { method: req.method, path: req.path, status: api.status, code: api.code };
    if (api.status >= 500) {
      // The cause goes to the log only; the client gets the generic message.
      const e = err as Error;
      const level = api.status === 500 ? 'error' : 'warn';
      log[level](
        { ...fields, err: e?.message ?? String(err), ...(api.status === 500 ? { stack: e?.stack } : {}) },
        'request failed',
      );
    } else {
      log.debug({ ...fields, message: api.message }, 'request rejected');
    }
    sendError(res, api);
  };
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

export function methodNotAllowed(allowed: readonly string[]): RequestHandler {
  return (req, res, next) => {
    res.setHeader('Allow', allowed.join(', '));
    next(new ApiError(405, 'method_not_allowed', `${req.method} is not allowed here; use ${allowed.join(' or ')}`));
  };
}
