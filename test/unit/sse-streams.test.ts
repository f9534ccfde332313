import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import type { SessionSnapshot, SessionView } from '../../src/producer/session-view.ts';
import { SessionStreams } from '../../src/api/sse.ts';

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
  set(): this {
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
    for (const { req, res } of exchanges) streams.stream(req, res, first);

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
    streams = new SessionStreams(s.read, createLogger('silent'), { pollMs: 600_000, heartbeatMs: 600_000, progressMs: 5 });
    const { req, res } = fakeExchange();
    streams.stream(req, res, s.first('s2'));
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
    streams.stream(req, res, s.first('s3'));
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
