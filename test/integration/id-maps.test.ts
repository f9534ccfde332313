import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/redis/connection.ts';
import { IdMaps } from '../../src/redis/id-maps.ts';
import { progressKey } from '../../src/redis/keys.ts';
import { createHarness, type Harness } from '../support/harness.ts';

describe('ID maps in Redis', () => {
  let h: Harness;
  let redis: Redis;
  beforeAll(async () => {
    h = await createHarness();
    redis = createRedis(h.cfg.REDIS_URL, 'worker');
  });
  afterAll(async () => {
    redis?.disconnect();
    await h?.close();
  });

  it('reads back what was published, an unpublished map as empty, and records the progress on the way', async () => {
    const maps = new IdMaps(redis, h.cfg.QUEUE_PREFIX);
    const session = randomUUID();
    const products = new Map(Array.from({ length: 300 }, () => [randomUUID(), randomUUID()] as const));
    const published = await maps.publish(session, new Map([['inventory.products', products]]), 60, {
      service: 'inventory',
      value: { status: 'ready' },
      ttlSeconds: 60,
    });
    expect(published.first).toBe(true);

    const read = await maps.read(session, ['inventory.products', 'inventory.locations'], {
      service: 'recipes',
      value: { status: 'loading', attempt: 1 },
      ttlSeconds: 60,
    });
    expect([...read.keys()]).toEqual(['inventory.products', 'inventory.locations']);
    expect(read.get('inventory.products')).toEqual(products);
    expect(read.get('inventory.locations')?.size).toBe(0);
    const key = progressKey(h.cfg.QUEUE_PREFIX, session);
    expect(JSON.parse((await redis.hget(key, 'recipes')) ?? 'null')).toEqual({ status: 'loading', attempt: 1 });
    expect(await redis.ttl(key)).toBeGreaterThan(0);

    // Without progress nothing else is written; a second IdMaps on the connection shares its script.
    expect(
      (await new IdMaps(redis, h.cfg.QUEUE_PREFIX).read(session, ['inventory.products'])).get('inventory.products')
        ?.size,
    ).toBe(300);
    expect(Object.keys(await redis.hgetall(key)).sort()).toEqual(['inventory', 'recipes']);
  });
});
