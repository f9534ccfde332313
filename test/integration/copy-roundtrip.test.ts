import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCopyRow } from '../../src/db/copy-encoding.ts';
import { copyRows } from '../../src/db/copy.ts';
import { loadConfig } from '../../src/config/env.ts';
import { pgText } from '../support/arbitraries.ts';

// Round trip through the real PostgreSQL: what the encoder writes is what the server stores.
describe('COPY text encoding through PostgreSQL', () => {
  const cfg = loadConfig();
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: cfg.DATABASE_URL, max: 2 });
  });
  afterAll(async () => {
    await pool.end();
  });
  /** Runs `fn` on a client of its own (temp tables are per connection), released after. */
  async function withClient(fn: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await pool.connect();
    try {
      await fn(client);
    } finally {
      client.release();
    }
  }

  it('stores any text, empty string and null exactly, in every position', async () => {
    const client = await pool.connect();
    try {
      await client.query('CREATE TEMP TABLE copy_rt (n int, a text, b text, c jsonb)');
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.option(pgText(), { nil: null }), fc.option(pgText(), { nil: null }), fc.option(fc.dictionary(pgText(), pgText(), { maxKeys: 3 }), { nil: null })), { minLength: 1, maxLength: 20 }),
          async (rows) => {
            await client.query('TRUNCATE copy_rt');
            const n = await copyRows(client, 'copy_rt', ['n', 'a', 'b', 'c'], rows.map((r, i) => encodeCopyRow([i, ...r])));
            expect(n).toBe(rows.length);
            const back = await client.query<{ a: string | null; b: string | null; c: unknown }>('SELECT a, b, c FROM copy_rt ORDER BY n');
            expect(back.rows.map((r) => [r.a, r.b, r.c])).toEqual(rows);
          },
        ),
        { numRuns: 150 },
      );
    } finally {
      client.release();
    }
  });

  it('sends a small COPY, statement, rows and end, in one socket write', async () => {
    const client = await pool.connect();
    const socket = (client as unknown as { connection: { stream: import('node:net').Socket } }).connection.stream;
    const calls: string[] = [];
    const spy = (name: '_write' | '_writev') => {
      const original = socket[name] as (...args: unknown[]) => unknown;
      socket[name] = function (this: unknown, ...args: unknown[]) {
        calls.push(name);
        return original.apply(this, args);
      } as never;
      return () => (socket[name] = original as never);
    };
    const restore = [spy('_write'), spy('_writev')];
    try {
      await client.query('CREATE TEMP TABLE copy_few (n int)');
      calls.length = 0;
      expect(await copyRows(client, 'copy_few', ['n'], ['1\n', '2\n', '3\n'])).toBe(3);
      // The COPY statement, CopyData header + data and CopyDone together, without
      // waiting for CopyInResponse.
      expect(calls).toEqual(['_writev']);
      expect((await client.query('SELECT sum(n)::int AS s FROM copy_few')).rows[0].s).toBe(6);
    } finally {
      for (const r of restore) r();
      client.release();
    }
  });

  it('a COPY statement that fails is rejected with its error, the rows sent with it are skipped and the client stays usable', () =>
    withClient(async (client) => {
      await client.query('CREATE TEMP TABLE copy_cols (n int)');
      await expect(copyRows(client, 'copy_cols', ['missing'], ['1\n', '2\n'])).rejects.toThrow(/column "missing" of relation "copy_cols" does not exist/);
      await expect(copyRows(client, 'copy_absent', ['n'], ['1\n'])).rejects.toThrow(/relation "copy_absent" does not exist/);
      expect(await copyRows(client, 'copy_cols', ['n'], ['7\n'])).toBe(1);
      expect((await client.query('SELECT array_agg(n)::int[] AS ns FROM copy_cols')).rows[0].ns).toEqual([7]);
    }));

  it('streams rows that outgrow the socket buffer, in order', () =>
    withClient(async (client) => {
      await client.query('CREATE TEMP TABLE copy_many (n int, pad text)');
      const pad = 'x'.repeat(200);
      async function* lines() {
        for (let i = 0; i < 50_000; i++) yield `${i}\t${pad}\n`;
      }
      expect(await copyRows(client, 'copy_many', ['n', 'pad'], lines())).toBe(50_000);
      const { rows } = await client.query<{ c: number; s: string; bad: number }>(
        `SELECT count(*)::int AS c, sum(n)::text AS s, count(*) FILTER (WHERE pad <> $1)::int AS bad FROM copy_many`,
        [pad],
      );
      expect(rows[0]).toEqual({ c: 50_000, s: String((49_999 * 50_000) / 2), bad: 0 });
    }));

  it('rolls the whole statement back on a bad row and keeps the client usable', () =>
    withClient(async (client) => {
      await client.query('CREATE TEMP TABLE copy_bad (n int NOT NULL)');
      await expect(copyRows(client, 'copy_bad', ['n'], ['1\n', '2\n', 'x\n'])).rejects.toThrow(/invalid input syntax/);
      expect((await client.query('SELECT count(*)::int AS n FROM copy_bad')).rows[0].n).toBe(0);
    }));
});
