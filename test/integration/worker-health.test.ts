import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import { createRedis } from '../../src/redis/connection.ts';
import { startWorkerHealth } from '../../src/workers/health-server.ts';
import type { RunningWorkers } from '../../src/workers/run-workers.ts';
import { createHarness, type Harness } from '../support/harness.ts';

/** A worker's /readyz names what is down, never the drivers' text, and logs it once per change. */
describe('worker /readyz', () => {
  let h: Harness;
  let server: http.Server;
  const lines: Record<string, unknown>[] = [];
  // Nothing listens on port 1: the Redis client never connects.
  const redis = createRedis('redis://127.0.0.1:1', 'producer', { connectTimeout: 200, retryStrategy: () => 200 });

  beforeAll(async () => {
    h = await createHarness();
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n').filter(Boolean))
          lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const workers = { workers: [{ isRunning: () => true }] } as unknown as RunningWorkers;
    server = await startWorkerHealth(
      { port: 0, host: '127.0.0.1', workers, redis, dbs: h.rt.dbs, databases: ['inventory'] },
      pino(sink),
    );
  });
  afterAll(async () => {
    server?.close();
    redis.disconnect();
    await h?.close();
  });

  it('answers 503 with the names of what is down and no error text; the detail is logged once', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(url);
      expect(res.status).toBe(503);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ status: 'not ready', down: ['redis'] });
      expect(text).not.toMatch(/ECONNREFUSED|timeout|connect/i);
    }
    const warned = lines.filter((l) => l.msg === 'not ready');
    expect(warned).toHaveLength(1);
    expect(JSON.stringify(warned[0]?.down)).toMatch(/redis/);
  });
});
