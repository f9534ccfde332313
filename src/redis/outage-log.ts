import type { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from '../shared/logger.ts';

/**
 * Quiet logs during a Redis outage. Every ioredis client retries its connection
 * (about every 2 s, each try an `error` event), and BullMQ passes each client's errors
 * on to the worker, queue or event reader using it: one outage of a few seconds made
 * hundreds of identical lines. Here, per Redis server (host:port/db) and process:
 * - the first connection error is logged at once (`redis connection lost`), the
 *   following ones are counted and summed up at most every `intervalMs`
 *   (`redis still unreachable`, with how many were suppressed and from which sources);
 * - a watched client that is ready again ends the outage (`redis connection back`,
 *   with its length);
 * - any other error (not a connection error) is logged at once too, and its repeats,
 *   from the same source with the same message, at most every `intervalMs`.
 * No timers: a summary is written when an error arrives, so a fake clock tests it.
 */
export interface OutageLogOptions {
  /** Least time between two lines about the same outage or the same repeated error (default 10 s). */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

export const OUTAGE_LOG_INTERVAL_MS = 10_000;

/** What names an error's origin in the log: the line's message and extra fields (e.g. `{ queue }`). */
export interface ErrorSource {
  /** The Redis server the source talks to (redisTarget). */
  readonly target: string;
  /** Who saw it: `worker inventory`, `queue events`, a client's name. */
  readonly source: string;
  /** The line's message for an error that is not a connection error (default `redis client error`). */
  readonly msg?: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

interface Outage {
  since: number;
  lastLineAt: number;
  suppressed: number;
  lastError: string;
  sources: Set<string>;
}

interface Repeat {
  lastLineAt: number;
  suppressed: number;
}

const MAX_REPEATS = 1_000;

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
]);
const CONNECTION_MESSAGES = [
  'Connection is closed',
  "Stream isn't writeable",
  'Reached the max retries per request limit',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'connect EHOSTUNREACH',
  'Socket closed unexpectedly',
];

/** Whether an error says the connection to Redis is down (rather than a command or script failed). */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && CONNECTION_CODES.has(e.code)) return true;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return CONNECTION_MESSAGES.some((m) => message.includes(m));
}

/** host:port/db of a client: the key of an outage (never its password). */
export function redisTarget(client: Pick<Redis, 'options'>): string {
  const o = client.options;
  return `${o.host ?? 'localhost'}:${o.port ?? 6379}/${o.db ?? 0}`;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class RedisOutageLog {
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly outages = new Map<string, Outage>();
  private readonly repeats = new Map<string, Repeat>();
  private readonly watched = new WeakSet<object>();

  constructor(
    private readonly log: Logger,
    opts: OutageLogOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? OUTAGE_LOG_INTERVAL_MS;
    this.now = opts.now ?? Date.now;
  }

  /** Whether the server is in an outage as far as this log knows. */
  isDown(target: string): boolean {
    return this.outages.has(target);
  }

  /** An ioredis client: its errors go through here, its `ready` ends an outage. Once per client. */
  watchClient(client: Redis, name: string): void {
    if (this.watched.has(client)) return;
    this.watched.add(client);
    const target = redisTarget(client);
    client.on('error', (err: Error) => this.error(err, { target, source: name }));
    client.on('ready', () => this.ready(target, name));
  }

  /** A BullMQ worker, queue or event reader: the errors it passes on from its connections. */
  watchErrors(emitter: Pick<EventEmitter, 'on'>, source: ErrorSource): void {
    emitter.on('error', (err: unknown) => this.error(err, source));
  }

  error(err: unknown, from: ErrorSource): void {
    const now = this.now();
    const message = messageOf(err);
    if (!isConnectionError(err)) {
      this.repeated(now, message, from);
      return;
    }
    const outage = this.outages.get(from.target);
    if (!outage) {
      this.outages.set(from.target, {
        since: now,
        lastLineAt: now,
        suppressed: 0,
        lastError: message,
        sources: new Set([from.source]),
      });
      this.log.error(
        { redis: from.target, source: from.source, ...from.fields, err: message },
        'redis connection lost',
      );
      return;
    }
    outage.sources.add(from.source);
    outage.suppressed++;
    outage.lastError = message;
    if (now - outage.lastLineAt < this.intervalMs) return;
    this.log.warn(
      {
        redis: from.target,
        down_ms: now - outage.since,
        suppressed: outage.suppressed,
        sources: [...outage.sources].sort(),
        err: message,
      },
      'redis still unreachable',
    );
    outage.lastLineAt = now;
    outage.suppressed = 0;
  }

  /** A client of `target` is connected and ready: an outage of it ends. */
  ready(target: string, source: string): void {
    const outage = this.outages.get(target);
    if (!outage) return;
    this.outages.delete(target);
    this.log.info(
      {
        redis: target,
        source,
        down_ms: this.now() - outage.since,
        suppressed: outage.suppressed,
        sources: [...outage.sources].sort(),
      },
      'redis connection back',
    );
  }

  private repeated(now: number, message: string, from: ErrorSource): void {
    const key = `${from.source}\u0000${message}`;
    const seen = this.repeats.get(key);
    if (seen && now - seen.lastLineAt < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    if (!seen && this.repeats.size >= MAX_REPEATS) {
      for (const [k, r] of this.repeats) if (now - r.lastLineAt >= this.intervalMs) this.repeats.delete(k);
      if (this.repeats.size >= MAX_REPEATS) this.repeats.clear();
    }
    this.repeats.set(key, { lastLineAt: now, suppressed: 0 });
    const extra = seen && seen.suppressed > 0 ? { repeated: seen.suppressed } : {};
    this.log.error({ source: from.source, ...from.fields, err: message, ...extra }, from.msg ?? 'redis client error');
  }
}

const perLogger = new WeakMap<Logger, RedisOutageLog>();

/** The process's outage log for this logger: every connection of a process shares one, so an outage is told once. */
export function outageLog(log: Logger): RedisOutageLog {
  let o = perLogger.get(log);
  if (!o) {
    o = new RedisOutageLog(log);
    perLogger.set(log, o);
  }
  return o;
}
