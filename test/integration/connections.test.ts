import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.ts';
import { createRedis } from '../../src/redis/connection.ts';
import { workerContext } from '../../src/runtime/context.ts';
import { removeSessionKeys } from '../../src/sessions/remove-session-data.ts';
import { createHarness, type Harness } from '../support/harness.ts';

/** The Lua scripts ioredis holds for a connection: every pipeline on it copies them all. */
const scripts = (r: Redis) => Object.keys((r as unknown as { scriptsSet: Record<string, unknown> }).scriptsSet);

describe("the worker's Redis connections", () => {
  let h: Harness;
  const opened: Redis[] = [];
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    for (const r of opened) r.disconnect();
    await h?.close();
  });

  it('a cleanup loads BullMQ onto the queue connection, never onto the one for ID maps', async () => {
    const [maps, queues] = [createRedis(h.cfg.REDIS_URL, 'worker'), createRedis(h.cfg.REDIS_URL, 'worker')];
    opened.push(maps, queues);
    const w = workerContext(h.cfg, h.rt.dbs, maps, createLogger('silent', 'stderr'), queues);
    await removeSessionKeys(w, randomUUID());
    expect(scripts(queues).length, 'BullMQ loaded its scripts for the cleanup').toBeGreaterThan(10);
    // Only the ID maps' own script: a pipeline on this connection has nothing else to copy.
    expect(scripts(maps)).toEqual(['demoSeedReadMaps']);
    expect((await w.idMaps.read(randomUUID(), ['inventory.products'])).get('inventory.products')?.size).toBe(0);
    expect(scripts(maps)).toEqual(['demoSeedReadMaps']);
  });
});
