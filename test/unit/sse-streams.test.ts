import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.ts';
import type { SessionSnapshot, SessionView } from '../../src/sessions/session-view.ts';
import { ApiError } from '../../src/api/errors.ts';
import { SessionStreams, type StreamSlot } from '../../src/api/sse.ts';

/** The parts of express's Response a stream uses. */
class FakeResponse extends EventEmitter {
  body = '';
  ended = false;
  get writableEnded(): boolean {
    return this.ended;
  }
  status(): this {
    return this;
  }
  headers: Record<string, string> = {};
  set(name: string | Record<string, string>, value?: string): this {
    if (typeof name === 'string') this.headers[name] = value ?? '';
    return this;
  }
  flushHeaders(): void {}
  write(chunk: string): boolean {
    this.body += chunk;
    return true;
  }
  end(): void {
    this.ended = true;
    this.emit('close');
  }
}

function fakeExchange(): { req: Request; res: Response & FakeResponse } {
  const req = { get: () => undefined, socket: { setNoDelay() {} } };
  return { req: req as unknown as Request, res: new FakeResponse() as unknown as Response & FakeResponse };
}

describe('event streams of one session', () => {
  let streams: SessionStreams | undefined;
  afterEach(() => streams?.closeAll());

  it('share one read when an event wakes them together, and read anew for a later event', async () => {
    let reads = 0;
    let status = 'loading';
    const view = async (id: string): Promise<SessionSnapshot> => {
      reads++;
      await new Promise((r) => setTimeout(r, 5));
      return { view: { session_id: id, status } as unknown as SessionView };
    };
    streams = new SessionStreams(view, createLogger('silent'), { pollMs: 600_000, heartbeatMs: 600_000 });
    const first = { view: { session_id: 's1', status: 'pending' } as unknown as SessionView };
    const exchanges = [fakeExchange(), fakeExchange(), fakeExchange()];
    for (const { req, res } of exchanges) streams.stream(req, res, first, streams.acquire('c', res));

    streams.nudge('s1');
    await new Promise((r) => setTimeout(r, 30));
    expect(reads).toBe(1);
    for (const { res } of exchanges) expect(res.body).toContain('"status":"loading"');

    status = 'ready';
    streams.nudge('s1');
    await new Promise((r) => setTimeout(r, 30));
    expect(reads).toBe(2);
    for (const { res } of exchanges) {
      expect(res.body).toContain('event: end');
      expect(res.ended).toBe(true);
    }
    expect(streams.size).toBe(0);
  });

  /** A loading session whose record reads and progress reads are counted; `progress` is what its services have shown. */
  function loadingSession(opts: { status?: () => string } = {}) {
    const counts = { whole: 0, progress: 0 };
    let shown = 0;
    const snap = (id: string): SessionSnapshot => {
      const status = opts.status?.() ?? 'loading';
      return {
        view: { session_id: id, status, services: { shown } } as unknown as SessionView,
        ...(status === 'loading' ? { refresh: async () => (counts.progress++, snap(id)) } : {}),
      };
    };
    return {
      counts,
      read: async (id: string) => (counts.whole++, snap(id)),
      first: (id: string) => snap(id),
      advance: () => shown++,
    };
  }

  it('reads only progress when a service of a loading session is done, and the whole session on a nudge', async () => {
    let status = 'loading';
    const s = loadingSession({ status: () => status });
    streams = new SessionStreams(s.read, createLogger('silent'), {
      pollMs: 600_000,
      heartbeatMs: 600_000,
      progressMs: 5,
    });
    const { req, res } = fakeExchange();
    streams.stream(req, res, s.first('s2'), streams.acquire('c', res));
    s.advance();
    streams.progressed('s2');
    await new Promise((r) => setTimeout(r, 40));
    expect(s.counts).toEqual({ whole: 0, progress: 1 });
    expect(res.body).toContain('"shown":1');
    status = 'ready';
    streams.nudge('s2');
    await new Promise((r) => setTimeout(r, 20));
    expect(s.counts).toEqual({ whole: 1, progress: 1 });
    expect(res.body).toContain('event: end');
  });

  it('reads the whole session again once pollMs passed with nothing but progress', async () => {
    const s = loadingSession();
    streams = new SessionStreams(s.read, createLogger('silent'), { pollMs: 60, heartbeatMs: 600_000, progressMs: 5 });
    const { req, res } = fakeExchange();
    streams.stream(req, res, s.first('s3'), streams.acquire('c', res));
    // Progress every 20 ms keeps pushing the poll back; every pollMs, one of them reads it all.
    for (let i = 0; i < 10; i++) {
      s.advance();
      streams.progressed('s3');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(s.counts.progress).toBeGreaterThanOrEqual(5);
    expect(s.counts.whole).toBeGreaterThanOrEqual(2);
    expect(res.body).toContain('"shown":10');
  });
});

describe('stream slots', () => {
  const silent = createLogger('silent');
  const pending = (id: string): SessionSnapshot => ({
    view: { session_id: id, status: 'pending' } as unknown as SessionView,
  });
  const never = () => new Promise<SessionSnapshot | undefined>(() => undefined);
  const refusal = (fn: () => unknown): ApiError => {
    try {
      fn();
    } catch (err) {
      return err as ApiError;
    }
    throw new Error('not refused');
  };

  it('are counted as they are taken: the total (503) and the per-client share (429), with Retry-After', () => {
    const streams = new SessionStreams(never, silent, { maxStreams: 5, maxPerClient: 2, retryAfterSeconds: 7 });
    const held = [streams.acquire('a', fakeExchange().res), streams.acquire('a', fakeExchange().res)];
    const over = fakeExchange().res;
    const e = refusal(() => streams.acquire('a', over));
    expect([e.status, e.code]).toEqual([429, 'too_many_client_streams']);
    expect(over.headers['Retry-After']).toBe('7');
    held.push(
      streams.acquire('b', fakeExchange().res),
      streams.acquire('b', fakeExchange().res),
      streams.acquire('c', fakeExchange().res),
    );
    expect(streams.size).toBe(5);
    const full = fakeExchange().res;
    const f = refusal(() => streams.acquire('d', full));
    expect([f.status, f.code]).toEqual([503, 'too_many_streams']);
    expect(full.headers['Retry-After']).toBe('7');
    held[0]!.release();
    held[0]!.release(); // twice: given back once
    expect(streams.size).toBe(4);
    expect(streams.heldBy('a')).toBe(1);
    expect(streams.acquire('d', fakeExchange().res).released).toBe(false);
  });

  it('come back on every exit: the response closing before the stream, an end, a 204, closeAll', () => {
    const streams = new SessionStreams(never, silent, {
      maxStreams: 10,
      maxPerClient: 10,
      pollMs: 600_000,
      heartbeatMs: 600_000,
    });
    // The client went away while its session was read: the stream opens nothing.
    const gone = fakeExchange();
    const slot = streams.acquire('a', gone.res);
    gone.res.emit('close');
    expect(slot.released).toBe(true);
    streams.stream(gone.req, gone.res, pending('s1'), slot);
    expect([streams.size, streams.open, gone.res.body]).toEqual([0, 0, '']);
    // A final session: one end event, then the slot is back.
    const done = fakeExchange();
    streams.stream(
      done.req,
      done.res,
      { view: { session_id: 's2', status: 'ready' } as unknown as SessionView },
      streams.acquire('a', done.res),
    );
    expect(done.res.body).toContain('event: end');
    expect(streams.size).toBe(0);
    // A reconnect to a finished session: 204.
    const again = {
      req: {
        get: (h: string) => (h === 'Last-Event-ID' ? '3' : undefined),
        socket: { setNoDelay() {} },
      } as unknown as Request,
      res: fakeExchange().res,
    };
    streams.stream(
      again.req,
      again.res,
      { view: { session_id: 's2', status: 'expired' } as unknown as SessionView },
      streams.acquire('a', again.res),
    );
    expect(again.res.ended).toBe(true);
    expect(streams.size).toBe(0);
    // Open streams, then shutdown; afterwards nothing opens.
    for (let i = 0; i < 3; i++) {
      const x = fakeExchange();
      streams.stream(x.req, x.res, pending('s3'), streams.acquire(`c${i}`, x.res));
    }
    expect([streams.size, streams.open]).toEqual([3, 3]);
    streams.closeAll();
    expect([streams.size, streams.open]).toEqual([0, 0]);
    expect(refusal(() => streams.acquire('a', fakeExchange().res)).status).toBe(503);
  });

  it('never exceed the total or a share, whatever the order of takes and releases (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.oneof(fc.record({ take: fc.integer({ min: 0, max: 3 }) }), fc.record({ drop: fc.nat() })), {
          maxLength: 60,
        }),
        (maxStreams, maxPerClient, steps) => {
          const streams = new SessionStreams(never, silent, { maxStreams, maxPerClient });
          const held: StreamSlot[] = [];
          for (const step of steps) {
            if ('take' in step) {
              const client = `c${step.take}`;
              const before = { total: streams.size, mine: streams.heldBy(client) };
              const allowed = before.total < maxStreams && before.mine < maxPerClient;
              if (allowed) held.push(streams.acquire(client, fakeExchange().res));
              else
                expect(refusal(() => streams.acquire(client, fakeExchange().res)).status).toBe(
                  before.total >= maxStreams ? 503 : 429,
                );
            } else if (held.length > 0) {
              held.splice(step.drop % held.length, 1)[0]!.release();
            }
            expect(streams.size).toBe(held.length);
            expect(streams.size).toBeLessThanOrEqual(maxStreams);
            for (let c = 0; c < 4; c++) {
              expect(streams.heldBy(`c${c}`)).toBe(held.filter((h) => h.client === `c${c}`).length);
              expect(streams.heldBy(`c${c}`)).toBeLessThanOrEqual(maxPerClient);
            }
          }
        },
      ),
    );
  });
});
