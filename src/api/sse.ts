import type { Request, Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import type { Logger } from '../shared/logger.ts';
import type { SessionSnapshot, SessionView } from '../sessions/session-view.ts';
import { ApiError } from './errors.ts';

/**
 * Live progress of a session as server-sent events
 * (GET /api/v1/demo-sessions/{id}/events):
 *
 * - `progress`: the session view (the GET body), first at once, then each time it changes;
 * - `end`: the final view, once the status is ready, failed, destroyed or expired; the
 *   server then closes the stream (an EventSource client should call close() on it; a
 *   reconnect with Last-Event-ID to a finished session is answered 204, which stops it);
 * - `error`: `{"error": {...}}` when the session can no longer be read; the stream ends;
 * - a `: ping` comment every heartbeat, so proxies keep the connection open.
 *
 * A stream reads the session again as soon as BullMQ reports the session's own job
 * waiting, done or failed, or any of its jobs failed (`nudge`, fed by the API's
 * QueueEvents); within `progressMs` of one of its services finishing (`progressed`:
 * a load of a few dozen ms is not read 11 times, a long one shows each step); and
 * every `pollMs` besides, in case an event was missed. A read for progress asks Redis
 * only (SessionSnapshot.refresh): the session's record does not change while its
 * services load, and what ends the load comes as a nudge; should nothing but
 * progress come for `pollMs`, the next read is a whole one. It stops as soon as the
 * client goes away.
 *
 * Capacity: a request takes its slot (acquire()) synchronously, before its first
 * await, so a burst cannot pass a check that nothing has counted yet; the slot goes
 * back when the response closes, whatever the way (the client gone, an error answer,
 * the end of the stream, 204, the server's shutdown). At most `maxStreams` slots in
 * all (503 `too_many_streams`) and `maxPerClient` per client (429
 * `too_many_client_streams`; the client as the POST rate limit sees it: `req.ip`,
 * IPv6 by /56), both with Retry-After.
 */
export const FINAL_STATUSES: ReadonlySet<string> = new Set(['ready', 'failed', 'destroyed', 'expired']);

export interface SseOptions {
  readonly pollMs: number;
  /** Longest delay between a service of the session finishing and the stream reading it. */
  readonly progressMs: number;
  readonly heartbeatMs: number;
  /** Streams open at once, in all (SSE_MAX_STREAMS). */
  readonly maxStreams: number;
  /** Streams open at once per client (SSE_MAX_PER_CLIENT). */
  readonly maxPerClient: number;
  /** Retry-After (seconds) of a refusal for capacity. */
  readonly retryAfterSeconds: number;
  /** Consecutive failed polls (database down) before the stream gives up. */
  readonly maxFailedPolls: number;
}

export const DEFAULT_SSE_OPTIONS: SseOptions = {
  pollMs: 1_000,
  progressMs: 100,
  heartbeatMs: 15_000,
  maxStreams: 1_000,
  maxPerClient: 20,
  retryAfterSeconds: 5,
  maxFailedPolls: 50,
};

/** The headers of an event stream (GET, and HEAD without the stream). */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

/** Who a stream counts against: the client address as the POST rate limit keys it (TRUST_PROXY decides; IPv6 by /56). */
export function streamClient(req: Request): string {
  return ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown', 56);
}

/** A place among the open streams, held from the request's start until its response closes. */
export interface StreamSlot {
  readonly client: string;
  /** True once given back (the response closed, or release() was called). */
  readonly released: boolean;
  /** Gives the slot back; a second call does nothing. */
  release(): void;
}

/** HEAD on /events: what GET would answer, without a stream (no slot held). */
export function headOfStream(req: Request, res: Response, first: SessionSnapshot): void {
  if (req.get('Last-Event-ID') !== undefined && FINAL_STATUSES.has(first.view.status)) {
    res.status(204).end();
    return;
  }
  res.status(200).set(SSE_HEADERS).end();
}

export class SessionStreams {
  private readonly closers = new Set<() => void>();
  /** Slots held: open streams and requests still reading their session. */
  private held = 0;
  /** Client → slots it holds. */
  private readonly perClient = new Map<string, number>();
  /** Set by closeAll(): the server is shutting down, no stream opens any more. */
  private shuttingDown = false;
  /** Session id → the wake-up of each of its open streams (its argument: the longest delay allowed). */
  private readonly wakers = new Map<string, Set<(withinMs: number) => void>>();
  private readonly opts: SseOptions;
  /** Reads started in this turn of the event loop, shared by the session's streams woken together. */
  private readonly reads = new Map<string, Promise<SessionSnapshot | undefined>>();
  /** Likewise for reads of progress only. */
  private readonly refreshes = new Map<string, Promise<SessionSnapshot>>();

  constructor(
    private readonly snapshot: (sessionId: string) => Promise<SessionSnapshot | undefined>,
    private readonly log: Logger,
    opts: Partial<SseOptions> = {},
  ) {
    this.opts = { ...DEFAULT_SSE_OPTIONS, ...opts };
  }

  /**
   * The session as it is now. Streams woken by the same event share one read; a read
   * asked for in a later turn is a new one (it must see what changed since).
   */
  private read(sessionId: string): Promise<SessionSnapshot | undefined> {
    return shared(this.reads, sessionId, () => this.snapshot(sessionId));
  }

  /** Progress read again for a session still loading, shared like read(). */
  private refresh(sessionId: string, refresh: () => Promise<SessionSnapshot>): Promise<SessionSnapshot> {
    return shared(this.refreshes, sessionId, refresh);
  }

  /** Slots held: open streams, and requests for one still reading their session. */
  get size(): number {
    return this.held;
  }

  /** Streams open (their headers sent). */
  get open(): number {
    return this.closers.size;
  }

  /** Slots held by one client (streamClient()). */
  heldBy(client: string): number {
    return this.perClient.get(client) ?? 0;
  }

  /** The session's job changed state, or a job of it failed: its streams read it again now. */
  nudge(sessionId: string): void {
    const set = this.wakers.get(sessionId);
    if (set) for (const wake of set) wake(0);
  }

  /** A service of the session finished: its streams read it again within progressMs. */
  progressed(sessionId: string): void {
    const set = this.wakers.get(sessionId);
    if (set) for (const wake of set) wake(this.opts.progressMs);
  }

  /**
   * Takes a slot for `client`, synchronously (call it before any await), or throws:
   * 503 `too_many_streams` when every slot is taken or the server is shutting down,
   * 429 `too_many_client_streams` when the client holds its share; both with
   * Retry-After, set on `res`. The slot is given back when `res` closes.
   */
  acquire(client: string, res: Response): StreamSlot {
    const refuse = (status: number, code: string, message: string): never => {
      res.set('Retry-After', String(this.opts.retryAfterSeconds));
      throw new ApiError(status, code, message);
    };
    if (this.shuttingDown) refuse(503, 'too_many_streams', 'the server is shutting down; reconnect shortly');
    if (this.held >= this.opts.maxStreams) {
      refuse(
        503,
        'too_many_streams',
        'too many event streams are open; retry later or poll GET /api/v1/demo-sessions/{id} instead',
      );
    }
    const mine = this.perClient.get(client) ?? 0;
    if (mine >= this.opts.maxPerClient) {
      refuse(
        429,
        'too_many_client_streams',
        `this client has ${mine} event streams open, the most allowed; close one or poll GET /api/v1/demo-sessions/{id} instead`,
      );
    }
    this.held++;
    this.perClient.set(client, mine + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      res.off('close', release);
      this.held--;
      const left = (this.perClient.get(client) ?? 1) - 1;
      if (left > 0) this.perClient.set(client, left);
      else this.perClient.delete(client);
    };
    res.once('close', release);
    return {
      client,
      get released() {
        return released;
      },
      release,
    };
  }

  /**
   * Streams `first` (already read by the handler) and what follows, until the status is
   * final, under `slot` (from acquire(), which this takes over: it is given back when the
   * stream ends). A slot already given back (the client went away meanwhile) streams nothing.
   */
  stream(req: Request, res: Response, first: SessionSnapshot, slot: StreamSlot): void {
    if (slot.released) return;
    if (this.shuttingDown) {
      slot.release();
      res.set('Retry-After', '1');
      res
        .status(503)
        .json(new ApiError(503, 'too_many_streams', 'the server is shutting down; reconnect shortly').body());
      return;
    }
    if (req.get('Last-Event-ID') !== undefined && FINAL_STATUSES.has(first.view.status)) {
      slot.release();
      res.status(204).end();
      return;
    }
    const sessionId = first.view.session_id;
    const log = this.log.child({ session_id: sessionId });
    res.status(200).set(SSE_HEADERS);
    res.flushHeaders();
    req.socket.setNoDelay(true);

    let seq = 0;
    let last = '';
    let failedPolls = 0;
    let poll: NodeJS.Timeout | undefined;
    /** When the timer `poll` fires. */
    let pollAt = Infinity;
    let current = first;
    let wholeAt = Date.now();
    let closed = false;
    // One read at a time; a nudge during a read asks for one more right after it.
    let reading = false;
    let again = false;
    const send = (event: string, json: string) => {
      res.write(`id: ${++seq}\nevent: ${event}\ndata: ${json}\n\n`);
    };
    const close = () => {
      if (closed) return;
      closed = true;
      clearTimeout(poll);
      clearInterval(heartbeat);
      this.closers.delete(close);
      slot.release();
      const set = this.wakers.get(sessionId);
      set?.delete(wake);
      if (set?.size === 0) this.wakers.delete(sessionId);
      if (!res.writableEnded) res.end();
      log.debug({ events: seq }, 'event stream closed');
    };
    const show = (v: SessionView) => {
      const json = JSON.stringify(v);
      if (FINAL_STATUSES.has(v.status)) {
        send('end', json);
        close();
      } else if (json !== last) {
        last = json;
        send('progress', json);
      }
    };
    const schedule = (ms: number, whole: boolean) => {
      clearTimeout(poll);
      pollAt = Date.now() + ms;
      poll = setTimeout(() => void tick(whole), ms);
    };
    const tick = async (whole: boolean) => {
      clearTimeout(poll);
      pollAt = Infinity;
      reading = true;
      try {
        const refresh = whole || Date.now() - wholeAt >= this.opts.pollMs ? undefined : current.refresh;
        if (!refresh) wholeAt = Date.now();
        const snap = refresh ? await this.refresh(sessionId, refresh) : await this.read(sessionId);
        failedPolls = 0;
        if (closed) return;
        if (!snap) {
          send(
            'error',
            JSON.stringify({ error: { code: 'session_not_found', message: 'the session no longer exists' } }),
          );
          close();
          return;
        }
        current = snap;
        show(snap.view);
      } catch (err) {
        if (++failedPolls === 1) log.warn({ err: (err as Error).message }, 'event stream: could not read the session');
        if (failedPolls >= this.opts.maxFailedPolls && !closed) {
          send(
            'error',
            JSON.stringify({
              error: { code: 'unavailable', message: 'the session cannot be read right now; reconnect later' },
            }),
          );
          close();
        }
      }
      reading = false;
      if (closed) return;
      if (again) {
        again = false;
        void tick(true);
      } else if (pollAt === Infinity) {
        schedule(this.opts.pollMs, true);
      }
    };
    /** withinMs 0: a whole read now (a nudge); more: progress, read within withinMs. */
    const wake = (withinMs: number) => {
      if (closed) return;
      if (reading) {
        // A read is under way: the next one follows it at once, or within withinMs.
        if (withinMs === 0) again = true;
        else if (Date.now() + withinMs < pollAt) schedule(withinMs, false);
      } else if (withinMs === 0) {
        void tick(true);
      } else if (Date.now() + withinMs < pollAt) {
        schedule(withinMs, false);
      }
    };
    const heartbeat = setInterval(() => {
      if (!res.writableEnded) res.write(': ping\n\n');
    }, this.opts.heartbeatMs);

    this.closers.add(close);
    let set = this.wakers.get(sessionId);
    if (!set) this.wakers.set(sessionId, (set = new Set()));
    set.add(wake);
    res.on('close', close);
    res.write(`retry: 2000\n\n`);
    show(first.view);
    if (!closed) schedule(this.opts.pollMs, true);
  }

  /** Ends every open stream (shutdown): clients reconnect, to another instance if need be. */
  closeAll(): void {
    this.shuttingDown = true;
    for (const close of [...this.closers]) close();
  }
}

/** The promise `make` gives, shared by the callers of this turn of the event loop. */
function shared<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let p = cache.get(key);
  if (!p) {
    p = make();
    cache.set(key, p);
    process.nextTick(() => cache.delete(key));
  }
  return p;
}
