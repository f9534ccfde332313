import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.ts';
import { createHarness, eventually, type Harness } from '../support/harness.ts';
import { recordSession } from '../support/sessions.ts';
import { PATH, startTestApi } from './helpers.ts';

/**
 * The event streams' capacity against a real server on 127.0.0.1: bursts opened at once
 * (raw node:http, one socket each, from several loopback source addresses 127.0.0.x,
 * which are several clients to the server), the total cap, the per-client share, the
 * slots and file descriptors given back, HEAD without a stream.
 */

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The body of a refusal (read to its end); '' for a stream. */
  readonly body: string;
  close(): void;
}

/** One request on its own socket from `localAddress`; a 200 stream stays open until close(). */
function request(
  api: RunningApi,
  path: string,
  opts: { localAddress?: string; method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const { port } = new URL(api.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        localAddress: opts.localAddress,
        agent: false,
        headers: { Accept: 'text/event-stream', ...opts.headers },
      },
      (res) => {
        const answer = (body: string) =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, close: () => req.destroy() });
        if (res.statusCode === 200 && opts.method !== 'HEAD') {
          res.resume();
          answer('');
          return;
        }
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => answer(body));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const openFiles = () => fs.readdirSync('/proc/self/fd').length;

/** `n` requests at once, request i from 127.0.0.(2 + client(i)). */
function burst(
  api: RunningApi,
  path: string,
  n: number,
  client: (i: number) => number,
  headers?: (i: number) => Record<string, string>,
): Promise<Answer[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      request(api, path, { localAddress: `127.0.0.${2 + client(i)}`, headers: headers?.(i) }),
    ),
  );
}

function expectRefusal(a: Answer, status: number, code: string): void {
  expect(a.status, a.body).toBe(status);
  expect(a.headers['content-type']).toMatch(/^application\/json/);
  expect(Number(a.headers['retry-after'])).toBeGreaterThan(0);
  expect((JSON.parse(a.body) as { error: { code: string; message: string } }).error.code).toBe(code);
  expect(a.body).not.toMatch(/\bat .+\.(ts|js):\d+|node_modules/);
}

describe('HTTP API: event-stream capacity', () => {
  let h: Harness;
  let events: string;

  beforeAll(async () => {
    h = await createHarness();
    // A session that stays pending (no flow), so every stream stays open until closed.
    events = `${PATH}/${(await recordSession(h)).session_id}/events`;
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Closes every answer, then waits until the server holds no slot and the process' file count is back near `baseline`. */
  async function closeAll(api: RunningApi, answers: Answer[], baseline: number): Promise<void> {
    for (const a of answers) a.close();
    await eventually(
      async () => (api.streams.size === 0 && api.streams.open === 0 ? true : undefined),
      5_000,
      'every slot to be given back',
    );
    // The server's sockets close as it sees the clients go: the count comes back to where it was.
    await eventually(
      async () => (openFiles() <= baseline + 5 ? true : undefined),
      5_000,
      `open files back to ${baseline} (now ${openFiles()})`,
    );
  }

  it('a burst of 130 from 7 clients against a total of 100 (20 each): 100 streams, the rest 503 with Retry-After', async () => {
    const api = await startTestApi(
      h,
      { RATE_LIMIT_PER_MINUTE: 0 },
      { sse: { maxStreams: 100, maxPerClient: 20, heartbeatMs: 600_000, pollMs: 600_000 } },
    );
    try {
      const baseline = openFiles();
      // 6 clients × 20 and one × 10: nobody above its share, 130 above the total.
      const answers = await burst(api, events, 130, (i) => Math.floor(i / 20));
      const ok = answers.filter((a) => a.status === 200);
      expect(ok).toHaveLength(100);
      expect(ok.every((a) => String(a.headers['content-type']).startsWith('text/event-stream'))).toBe(true);
      const refused = answers.filter((a) => a.status !== 200);
      expect(refused).toHaveLength(30);
      for (const a of refused) expectRefusal(a, 503, 'too_many_streams');
      expect(api.streams.size).toBe(100);
      await closeAll(api, answers, baseline);
      // Given back: the next one opens.
      const next = await request(api, events, { localAddress: '127.0.0.2' });
      expect(next.status).toBe(200);
      await closeAll(api, [next], baseline);
    } finally {
      await api.close();
    }
  });

  it('one client cannot take more than its share: 30 at once from one address, 20 streams and 10 × 429; another client still gets one', async () => {
    const api = await startTestApi(
      h,
      { RATE_LIMIT_PER_MINUTE: 0 },
      { sse: { maxStreams: 100, maxPerClient: 20, heartbeatMs: 600_000, pollMs: 600_000 } },
    );
    try {
      const baseline = openFiles();
      const answers = await burst(api, events, 30, () => 10);
      expect(answers.filter((a) => a.status === 200)).toHaveLength(20);
      const refused = answers.filter((a) => a.status !== 200);
      expect(refused).toHaveLength(10);
      for (const a of refused) expectRefusal(a, 429, 'too_many_client_streams');
      const other = await request(api, events, { localAddress: '127.0.0.3' });
      expect(other.status).toBe(200);
      await closeAll(api, [...answers, other], baseline);
    } finally {
      await api.close();
    }
  });

  it('the client is req.ip, as for the POST rate limit: X-Forwarded-For counts only behind TRUST_PROXY', async () => {
    const sse = { maxStreams: 100, maxPerClient: 2, heartbeatMs: 600_000, pollMs: 600_000 };
    const xff = (i: number) => ({ 'X-Forwarded-For': `203.0.113.${i}` });
    // Not trusted: five "clients" from one socket address are one client.
    const direct = await startTestApi(h, { RATE_LIMIT_PER_MINUTE: 0, TRUST_PROXY: 'false' }, { sse });
    try {
      const answers = await burst(direct, events, 5, () => 0, xff);
      expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 429, 429, 429]);
      for (const a of answers) a.close();
      await eventually(async () => (direct.streams.size === 0 ? true : undefined), 5_000, 'slots back');
    } finally {
      await direct.close();
    }
    // Behind a trusted proxy on loopback: five clients, each within its share.
    const proxied = await startTestApi(h, { RATE_LIMIT_PER_MINUTE: 0, TRUST_PROXY: 'loopback' }, { sse });
    try {
      const answers = await burst(proxied, events, 5, () => 0, xff);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
      for (const a of answers) a.close();
      await eventually(async () => (proxied.streams.size === 0 ? true : undefined), 5_000, 'slots back');
    } finally {
      await proxied.close();
    }
  });

  it('at the real scale: 1,010 at once from 51 clients with the defaults (1,000 in all, 20 each): 1,000 streams, 10 × 503', async () => {
    expect([h.cfg.SSE_MAX_STREAMS, h.cfg.SSE_MAX_PER_CLIENT]).toEqual([1_000, 20]);
    const api = await startTestApi(h, { RATE_LIMIT_PER_MINUTE: 0 }, { sse: { heartbeatMs: 600_000, pollMs: 600_000 } });
    try {
      const baseline = openFiles();
      const answers = await burst(api, events, 1_010, (i) => i % 51);
      const ok = answers.filter((a) => a.status === 200);
      expect(ok).toHaveLength(1_000);
      const refused = answers.filter((a) => a.status !== 200);
      expect(refused).toHaveLength(10);
      for (const a of refused) expectRefusal(a, 503, 'too_many_streams');
      expect(api.streams.size).toBe(1_000);
      await closeAll(api, answers, baseline);
    } finally {
      await api.close();
    }
  });

  it('the slot comes back on an error answer and on the server closing', async () => {
    const api = await startTestApi(
      h,
      { RATE_LIMIT_PER_MINUTE: 0 },
      { sse: { maxStreams: 3, maxPerClient: 3, heartbeatMs: 600_000, pollMs: 600_000 } },
    );
    let closed = false;
    try {
      // Unknown and malformed sessions: 404/400, and no slot kept (more of them than the cap).
      for (let i = 0; i < 5; i++) {
        expect((await request(api, `${PATH}/${randomUUID()}/events`)).status).toBe(404);
        expect((await request(api, `${PATH}/nope/events`)).status).toBe(400);
      }
      expect(api.streams.size).toBe(0);
      const open = await Promise.all([1, 2, 3].map(() => request(api, events)));
      expect(open.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(api.streams.size).toBe(3);
      await api.close();
      closed = true;
      expect([api.streams.size, api.streams.open]).toEqual([0, 0]);
      for (const a of open) a.close();
    } finally {
      if (!closed) await api.close();
    }
  });

  it('HEAD answers what GET would, without a stream or a slot, even with every slot taken', async () => {
    const api = await startTestApi(
      h,
      { RATE_LIMIT_PER_MINUTE: 0 },
      { sse: { maxStreams: 2, maxPerClient: 2, heartbeatMs: 600_000, pollMs: 600_000 } },
    );
    try {
      const baseline = openFiles();
      const head = await request(api, events, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(head.headers['cache-control']).toMatch(/no-cache/);
      expect(api.streams.size).toBe(0);
      const full = await Promise.all([1, 2].map(() => request(api, events)));
      expect(full.map((a) => a.status)).toEqual([200, 200]);
      expectRefusal(await request(api, events), 503, 'too_many_streams');
      expect((await request(api, events, { method: 'HEAD' })).status).toBe(200);
      expect((await request(api, `${PATH}/${randomUUID()}/events`, { method: 'HEAD' })).status).toBe(404);
      expect((await request(api, `${PATH}/nope/events`, { method: 'HEAD' })).status).toBe(400);
      expect(api.streams.size).toBe(2);
      const put = await request(api, events, { method: 'PUT' });
      expect(put.status).toBe(405);
      expect(put.headers.allow).toBe('GET, HEAD');
      await closeAll(api, full, baseline);
    } finally {
      await api.close();
    }
  });
});
