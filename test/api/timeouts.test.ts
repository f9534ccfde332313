import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.ts';
import { ConfigError, loadConfig } from '../../src/config/env.ts';
import { createHarness, eventually, type Harness } from '../support/harness.ts';
import { client, freshEmail, openSse, PATH, postSession, startTestApi } from './helpers.ts';

/** A raw connection that records what the server sends and when it closed. */
function connect(api: RunningApi): Promise<{ socket: net.Socket; received: () => string; closed: Promise<number> }> {
  const { port } = new URL(api.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (got += d));
    const closed = new Promise<number>((r) => socket.on('close', () => r(Date.now())));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, received: () => got, closed }));
    socket.once('error', reject);
  });
}

/** Whether `p` settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    p.then(() => true),
    new Promise<boolean>((res) => (timer = setTimeout(() => res(false), ms))),
  ]);
  clearTimeout(timer);
  return r;
}

describe('HTTP server bounds: the HTTP_* variables', () => {
  it('have defaults well under a minute, and headers may not outlast the request', () => {
    const cfg = loadConfig({});
    expect(cfg.HTTP_REQUEST_TIMEOUT_MS).toBe(30_000);
    expect(cfg.HTTP_HEADERS_TIMEOUT_MS).toBe(10_000);
    expect(cfg.HTTP_KEEP_ALIVE_TIMEOUT_MS).toBe(65_000);
    expect(cfg.HTTP_MAX_CONNECTIONS).toBe(2_000);
    let err: unknown;
    try {
      loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '6000' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      expect.stringMatching(
        /HTTP_HEADERS_TIMEOUT_MS \(6000\) must not exceed HTTP_REQUEST_TIMEOUT_MS \(5000\)/,
      ) as string,
    ]);
    expect(() => loadConfig({ HTTP_MAX_CONNECTIONS: '0', HTTP_REQUEST_TIMEOUT_MS: 'soon' })).toThrow(
      /HTTP_MAX_CONNECTIONS[\s\S]*HTTP_REQUEST_TIMEOUT_MS|HTTP_REQUEST_TIMEOUT_MS[\s\S]*HTTP_MAX_CONNECTIONS/,
    );
  });
});

/**
 * With short bounds (request 600 ms, headers 300 ms, keep-alive 1.5 s): a request that
 * does not arrive in time is answered 408 and closed; a response, however long, is not
 * cut; an idle keep-alive connection lives for keepAliveTimeout, not headersTimeout.
 */
describe('HTTP server bounds, short', () => {
  let h: Harness;
  let api: RunningApi;
  const REQUEST_MS = 600;
  const HEADERS_MS = 300;
  const KEEP_ALIVE_MS = 1_500;

  beforeAll(async () => {
    h = await createHarness();
    api = await startTestApi(
      h,
      {
        RATE_LIMIT_PER_MINUTE: 0,
        HTTP_REQUEST_TIMEOUT_MS: REQUEST_MS,
        HTTP_HEADERS_TIMEOUT_MS: HEADERS_MS,
        HTTP_KEEP_ALIVE_TIMEOUT_MS: KEEP_ALIVE_MS,
      },
      { sse: { heartbeatMs: 100 } },
    );
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
  });

  it('are set on the server', () => {
    expect(api.server.requestTimeout).toBe(REQUEST_MS);
    expect(api.server.headersTimeout).toBe(HEADERS_MS);
    expect(api.server.keepAliveTimeout).toBe(KEEP_ALIVE_MS);
    expect(api.server.maxConnections).toBe(h.cfg.HTTP_MAX_CONNECTIONS);
  });

  it('an event stream outlives requestTimeout many times over', async () => {
    // No workers: the session stays pending, so its stream stays open.
    const res = await postSession(api, { demo_account_type: 'professional', email: freshEmail() });
    expect(res.status, res.text).toBe(202);
    const sse = await openSse(api, `${PATH}/${(res.body as { session_id: string }).session_id}/events`);
    try {
      expect(sse.status).toBe(200);
      const ended = settlesWithin(sse.ended, REQUEST_MS * 4);
      expect(await ended).toBe(false);
      // Still alive and still sent to: pings keep coming after the bound passed.
      const pings = sse.comments.length;
      await eventually(async () => (sse.comments.length > pings ? true : undefined), 5_000, 'another ping');
      expect(sse.events[0]?.event).toBe('progress');
    } finally {
      sse.close();
    }
  });

  it('a body sent more slowly than requestTimeout is answered 408 and cut', async () => {
    const scrape = async () => (await client(api).get('/metrics')).text;
    const c = await connect(api);
    const t0 = Date.now();
    c.socket.write(`POST ${PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n`);
    // 4 bytes every 50 ms: the body would take 5 s.
    const drip = setInterval(() => {
      if (!c.socket.destroyed) c.socket.write('{ " ');
    }, 50);
    try {
      expect(await settlesWithin(c.closed, 5_000)).toBe(true);
    } finally {
      clearInterval(drip);
    }
    const closedAfter = (await c.closed) - t0;
    expect(closedAfter).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    expect(closedAfter).toBeLessThan(4_000); // well before the body would have arrived
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(c.received().slice(c.received().indexOf('\r\n\r\n') + 4))).toMatchObject({
      error: { code: 'request_timeout' },
    });
    await eventually(
      async () =>
        (await scrape()).includes(`demo_http_requests_total{method="POST",route="${PATH}",status="408"} 1`)
          ? true
          : undefined,
      3_000,
      'the 408 to be counted',
    );
  });

  it('headers sent more slowly than headersTimeout are answered 408 and cut', async () => {
    const c = await connect(api);
    c.socket.write('GET /healthz HTTP/1.1\r\n');
    const drip = setInterval(() => {
      if (!c.socket.destroyed) c.socket.write('X-Slow: 1\r\n');
    }, 50);
    try {
      expect(await settlesWithin(c.closed, 5_000)).toBe(true);
    } finally {
      clearInterval(drip);
    }
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('a connection that sends nothing is closed after headersTimeout', async () => {
    const c = await connect(api);
    expect(await settlesWithin(c.closed, 5_000)).toBe(true);
  });

  it('an idle keep-alive connection is kept past headersTimeout and requestTimeout, and closed after keepAliveTimeout', async () => {
    const c = await connect(api);
    const get = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
    c.socket.write(get);
    await eventually(
      async () => (c.received().includes('{"status":"ok"}') ? true : undefined),
      3_000,
      'the first answer',
    );
    expect(c.received()).toMatch(/Keep-Alive: timeout=1\b/i);
    // Idle for longer than both request bounds, shorter than the keep-alive one.
    expect(await settlesWithin(c.closed, REQUEST_MS + 300)).toBe(false);
    const firstLength = c.received().length;
    c.socket.write(get);
    await eventually(
      async () => (c.received().slice(firstLength).includes('{"status":"ok"}') ? true : undefined),
      3_000,
      'the second answer on the same connection',
    );
    const idleFrom = Date.now();
    expect(await settlesWithin(c.closed, KEEP_ALIVE_MS * 3)).toBe(true);
    expect((await c.closed) - idleFrom).toBeGreaterThanOrEqual(KEEP_ALIVE_MS - 100);
  });
});

describe('HTTP_MAX_CONNECTIONS', () => {
  let h: Harness;
  let api: RunningApi;

  beforeAll(async () => {
    h = await createHarness();
    api = await startTestApi(h, { RATE_LIMIT_PER_MINUTE: 0, HTTP_MAX_CONNECTIONS: 3 });
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
  });

  it('closes connections beyond the cap at once, counts them, and takes new ones once some close', async () => {
    const held = await Promise.all([connect(api), connect(api), connect(api)]);
    // The server has seen the three before the fourth arrives.
    await eventually(
      async () =>
        (await new Promise<number>((r) => api.server.getConnections((_e, n) => r(n)))) === 3 ? true : undefined,
      3_000,
      'three connections',
    );
    const extra = await connect(api);
    expect(await settlesWithin(extra.closed, 3_000)).toBe(true);
    expect(extra.received()).toBe('');
    for (const c of held) c.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    await eventually(
      async () =>
        (await new Promise<number>((r) => api.server.getConnections((_e, n) => r(n)))) === 0 ? true : undefined,
      3_000,
      'no connection',
    );
    const metrics = await client(api).get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/^demo_http_connections_dropped_total 1$/m);
  });
});
