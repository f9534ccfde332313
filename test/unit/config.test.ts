import { describe, expect, it } from 'vitest';
import { ConfigError, databaseName, databaseUrl, loadConfig } from '../../src/config/env.ts';

describe('configuration', () => {
  it('has the contract defaults', () => {
    const cfg = loadConfig({});
    expect(cfg.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(cfg.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/postgres');
    expect(cfg.PORT).toBe(8000);
    expect(cfg.DEMO_SESSION_TTL_SECONDS).toBe(1800);
    expect(cfg.RATE_LIMIT_PER_MINUTE).toBe(30);
    expect(databaseName(cfg, 'inventory')).toBe('bakery_inventory');
    expect(databaseUrl(cfg, 'demo_session')).toBe('postgres://postgres@127.0.0.1:5432/bakery_demo_session');
  });

  it('lets <SERVICE>_DATABASE_URL name one database', () => {
    const cfg = loadConfig({ INVENTORY_DATABASE_URL: 'postgres://u@db.example:5433/inv' });
    expect(databaseUrl(cfg, 'inventory')).toBe('postgres://u@db.example:5433/inv');
    expect(databaseUrl(cfg, 'sales')).toContain('/bakery_sales');
  });

  it('reports every bad variable at once, by name', () => {
    let err: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        REDIS_URL: 'http://x',
        DEMO_SESSION_TTL_SECONDS: '-1',
        RATE_LIMIT_PER_MINUTE: '1.5',
        QUEUE_PREFIX: 'demo',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'REDIS_URL', 'DEMO_SESSION_TTL_SECONDS', 'RATE_LIMIT_PER_MINUTE', 'QUEUE_PREFIX'])
      expect(problems).toContain(name);
  });

  it('wants both admin credentials or neither', () => {
    expect(() => loadConfig({ ADMIN_USER: 'admin' })).toThrow(/ADMIN_USER and ADMIN_PASSWORD/);
    expect(loadConfig({ ADMIN_USER: 'a', ADMIN_PASSWORD: 'b' }).ADMIN_USER).toBe('a');
  });
});
