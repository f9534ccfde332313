/**
 * Is this error PostgreSQL (or the way to it) being unavailable, rather than a fault
 * of the query or of the code? Such errors are the service's, not the client's, and
 * pass: the API answers them 503 with Retry-After.
 *
 * - the network: connection refused, reset or timed out, host unknown or unreachable;
 * - pg's own: "Connection terminated" (unexpectedly, or by its connect timeout),
 *   pg-pool's "timeout exceeded when trying to connect", a client that lost its connection;
 * - SQLSTATE class 08 (connection exception), 57P01-57P03 (admin shutdown, crash
 *   shutdown, cannot connect now), 53300 (too many connections), 3D000 (no such
 *   database), and 55000 where it is the server refusing a connection ("database ...
 *   is not currently accepting connections", raised at connect time in postinit.c):
 *   other 55000 errors (e.g. currval not yet defined) are bugs, not outages.
 *
 * Wrapped errors are looked through (`cause`, and AggregateError's `errors`, which is
 * what a connect to several addresses fails with).
 */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
]);

const SQLSTATES: ReadonlySet<string> = new Set(['57P01', '57P02', '57P03', '53300', '3D000']);

const PG_MESSAGES =
  /timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error|not currently accepting connections/i;

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  file?: unknown;
  cause?: unknown;
  errors?: unknown;
}

export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (err === null || typeof err !== 'object' || depth > 4) return false;
  const e = err as ErrorLike;
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (NETWORK_CODES.has(code) || SQLSTATES.has(code) || code.startsWith('08')) return true;
  if (code === '55000') return e.file === 'postinit.c' || /not currently accepting connections/i.test(message);
  // An SQLSTATE of another class is the query's error, whatever its message says.
  if (/^[0-9A-Z]{5}$/.test(code) && !code.startsWith('E')) return false;
  if (PG_MESSAGES.test(message)) return true;
  if (e.cause !== undefined && isDatabaseUnavailable(e.cause, depth + 1)) return true;
  return Array.isArray(e.errors) && e.errors.some((x) => isDatabaseUnavailable(x, depth + 1));
}
