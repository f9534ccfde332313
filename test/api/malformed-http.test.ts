import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { PATH, client, parseMetrics, startTestApi } from './helpers.ts';

/** Sends raw bytes on a fresh connection; resolves with all the server sent once it closed the connection. */
function raw(api: RunningApi, chunks: string[], gapMs = 20): Promise<string> {
  const { port } = new URL(api.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (got += d));
    socket.on('error', () => undefined); // a reset after the answer is fine
    socket.on('close', () => resolve(got));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close the connection; got ${JSON.stringify(got)}`));
    }, 10_000);
    socket.on('close', () => clearTimeout(timer));
    void (async () => {
      for (const c of chunks) {
        if (socket.destroyed) return;
        socket.write(c);
        await new Promise((r) => setTimeout(r, gapMs));
      }
    })();
  });
}

/** `HTTP/1.1 <status>` and a JSON body in the error shape. */
function expectRawError(text: string, status: number, code: string): void {
  expect(text, text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  expect(JSON.parse(body)).toEqual({ error: { code, message: expect.any(String) as string } });
  expect(text).toMatch(/\r\nContent-Type: application\/json/i);
}

/**
 * Requests Node's parser rejects (the server's clientError) are answered as Node would,
 * in the error shape, and counted in demo_http_requests_total with the status sent: not
 * as the 200 that the response Express held (and never sent) had by default.
 */
describe('HTTP API: malformed HTTP', () => {
  let h: Harness;
  let api: RunningApi;
  const scrape = async () => parseMetrics((await client(api).get('/metrics')).text);
  const count = (m: Map<string, number>, labels: string) => m.get(`demo_http_requests_total{${labels}}`) ?? 0;
  const POST_ROUTE = `method="POST",route="${PATH}"`;

  beforeAll(async () => {
    h = await createHarness();
    api = await startTestApi(h, { RATE_LIMIT_PER_MINUTE: 0 });
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
  });

  it('a broken chunked body, after Express took the request: 400 sent, 400 counted, not 200', async () => {
    const before = await scrape();
    const text = await raw(api, [
      `POST ${PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      '5\r\n{"a":\r\n',
      'zz-not-a-chunk-size\r\n\r\n',
    ]);
    expectRawError(text, 400, 'bad_request');
    const after = await scrape();
    expect(count(after, `${POST_ROUTE},status="200"`)).toBe(count(before, `${POST_ROUTE},status="200"`));
    expect(count(after, `${POST_ROUTE},status="400"`)).toBe(count(before, `${POST_ROUTE},status="400"`) + 1);
  });

  it('garbage that never becomes a request: 400 in the error shape, counted as unparsed, nothing as 200', async () => {
    const before = await scrape();
    const text = await raw(api, ['\x16\x03\x01\x02\x00garbage that is not HTTP\r\n\r\n']);
    expectRawError(text, 400, 'bad_request');
    const after = await scrape();
    expect(count(after, 'method="unknown",route="unparsed",status="400"')).toBe(
      count(before, 'method="unknown",route="unparsed",status="400"') + 1,
    );
    const sum200 = (m: Map<string, number>) =>
      [...m]
        .filter(
          ([k]) =>
            k.startsWith('demo_http_requests_total{') && k.includes('status="200"') && !k.includes('route="/metrics"'),
        )
        .reduce((n, [, v]) => n + v, 0);
    expect(sum200(after)).toBe(sum200(before));
  });

  it('headers too large: 431 in the error shape', async () => {
    const text = await raw(api, [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]);
    expectRawError(text, 431, 'headers_too_large');
  });

  it('a client that resets mid-body is counted as none (no answer was sent), not 200', async () => {
    const before = await scrape();
    const { port } = new URL(api.url);
    await new Promise<void>((resolve) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST ${PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`,
        );
        setTimeout(() => socket.resetAndDestroy(), 100);
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
    });
    // The server sees the reset a moment later.
    let after = await scrape();
    for (
      let i = 0;
      i < 50 && count(after, `${POST_ROUTE},status="none"`) === count(before, `${POST_ROUTE},status="none"`);
      i++
    ) {
      await new Promise((r) => setTimeout(r, 20));
      after = await scrape();
    }
    expect(count(after, `${POST_ROUTE},status="none"`)).toBe(count(before, `${POST_ROUTE},status="none"`) + 1);
    expect(count(after, `${POST_ROUTE},status="200"`)).toBe(count(before, `${POST_ROUTE},status="200"`));
  });
});
