import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import type { SessionView } from '../../src/producer/session-view.ts';
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
    const view = async (id: string) => {
      reads++;
      await new Promise((r) => setTimeout(r, 5));
      return { session_id: id, status } as unknown as SessionView;
    };
    streams = new SessionStreams(view, createLogger('silent'), { pollMs: 600_000, heartbeatMs: 600_000 });
    const first = { session_id: 's1', status: 'pending' } as unknown as SessionView;
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
});
