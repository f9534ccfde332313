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

  it('rolls the whole statement back on a bad row and keeps the client usable', async () => {
    const client = await pool.connect();
    try {
      await client.query('CREATE TEMP TABLE copy_bad (n int NOT NULL)');
      await expect(copyRows(client, 'copy_bad', ['n'], ['1\n', '2\n', 'x\n'])).rejects.toThrow(/invalid input syntax/);
      expect((await client.query('SELECT count(*)::int AS n FROM copy_bad')).rows[0].n).toBe(0);
    } finally {
      client.release();
    }
  });
});
