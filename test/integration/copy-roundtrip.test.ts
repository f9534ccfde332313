import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCopyRow } from '../support/copy-text.ts';
import { copyRows, copyTables } from '../../src/db/copy.ts';
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
          fc.array(
            fc.tuple(
              fc.option(pgText(), { nil: null }),
              fc.option(pgText(), { nil: null }),
              fc.option(fc.dictionary(pgText(), pgText(), { maxKeys: 3 }), { nil: null }),
            ),
            { minLength: 1, maxLength: 20 },
          ),
          async (rows) => {
            await client.query('TRUNCATE copy_rt');
            const n = await copyRows(
              client,
              'copy_rt',
              ['n', 'a', 'b', 'c'],
              rows.map((r, i) => encodeCopyRow([i, ...r])),
            );
            expect(n).toBe(rows.length);
            const back = await client.query<{ a: string | null; b: string | null; c: unknown }>(
              'SELECT a, b, c FROM copy_rt ORDER BY n',
            );
            expect(back.rows.map((r) => [r.a, r.b, r.c])).toEqual(rows);
          },
        ),
        { numRuns: 150 },
      );
    } finally {
      client.release();
    }
  });

  /** Records the socket's write calls (`_write` or `_writev`) until the returned function is called. */
  function recordWrites(client: pg.PoolClient): { calls: string[]; restore: () => void } {
    const socket = (client as unknown as { connection: { stream: import('node:net').Socket } }).connection.stream;
    const calls: string[] = [];
    const originals = (['_write', '_writev'] as const).map((name) => {
      const original = socket[name] as (...args: unknown[]) => unknown;
      socket[name] = function (this: unknown, ...args: unknown[]) {
        calls.push(name);
        return original.apply(this, args);
      } as never;
      return () => (socket[name] = original as never);
    });
    return { calls, restore: () => originals.forEach((r) => r()) };
  }

  it('sends a small COPY, statement, rows and end, in one socket write', () =>
    withClient(async (client) => {
      await client.query('CREATE TEMP TABLE copy_few (n int)');
      const writes = recordWrites(client);
      try {
        expect(await copyRows(client, 'copy_few', ['n'], ['1\n', '2\n', '3\n'])).toBe(3);
      } finally {
        writes.restore();
      }
      // The COPY statement, CopyData header + data and CopyDone together, without
      // waiting for CopyInResponse.
      expect(writes.calls).toEqual(['_writev']);
      expect((await client.query('SELECT sum(n)::int AS s FROM copy_few')).rows[0].s).toBe(6);
    }));

  it('copies several tables in one socket write, any text as a string or bytes, each its own rows, counted in order', () =>
    withClient(async (client) => {
      await client.query(
        'CREATE TEMP TABLE copy_t1 (n int, a text); CREATE TEMP TABLE copy_t2 (n int, a text); CREATE TEMP TABLE copy_t3 (n int, a text)',
      );
      const names = ['copy_t1', 'copy_t2', 'copy_t3'];
      await fc.assert(
        fc.asyncProperty(
          fc.tuple(...names.map(() => fc.array(fc.option(pgText(), { nil: null }), { maxLength: 8 }))),
          async (perTable) => {
            await client.query(`TRUNCATE ${names.join(', ')}`);
            const writes = recordWrites(client);
            let counts;
            try {
              counts = await copyTables(
                client,
                names.map((table, t) => {
                  const text = (perTable[t] ?? []).map((a, i) => encodeCopyRow([i, a])).join('');
                  // The middle table's text goes as UTF-8 bytes (a filled template), the others as strings.
                  return { table, columns: ['n', 'a'], text: t === 1 ? Buffer.from(text) : text };
                }),
              );
            } finally {
              writes.restore();
            }
            expect(writes.calls).toEqual(['_writev']);
            expect(counts.map((c) => c.rows)).toEqual(perTable.map((rows) => rows.length));
            for (const [t, table] of names.entries()) {
              const back = await client.query<{ a: string | null }>(`SELECT a FROM ${table} ORDER BY n`);
              expect(back.rows.map((r) => r.a)).toEqual(perTable[t]);
            }
          },
        ),
        { numRuns: 60 },
      );
    }));

  it('a table that fails in copyTables rejects with its error, aborts the transaction, and the client stays usable', () =>
    withClient(async (client) => {
      await client.query('CREATE TEMP TABLE copy_ok (n int); CREATE TEMP TABLE copy_strict (n int NOT NULL)');
      await client.query('BEGIN');
      await expect(
        copyTables(client, [
          { table: 'copy_ok', columns: ['n'], text: '1\n2\n' },
          { table: 'copy_strict', columns: ['n'], text: '3\nx\n' },
          { table: 'copy_ok', columns: ['n'], text: '4\n' },
        ]),
      ).rejects.toThrow(/invalid input syntax for type integer: "x"/);
      await expect(client.query('SELECT 1')).rejects.toThrow(/current transaction is aborted/);
      await client.query('ROLLBACK');
      // Outside a transaction the Query's statements go together: a missing table takes the first one back too.
      await expect(
        copyTables(client, [
          { table: 'copy_ok', columns: ['n'], text: '5\n' },
          { table: 'copy_absent', columns: ['n'], text: '6\n' },
        ]),
      ).rejects.toThrow(/relation "copy_absent" does not exist/);
      const { rows } = await client.query<{ ok: number; strict: number }>(
        'SELECT (SELECT count(*) FROM copy_ok)::int AS ok, (SELECT count(*) FROM copy_strict)::int AS strict',
      );
      expect(rows[0]).toEqual({ ok: 0, strict: 0 });
      expect(
        (await copyTables(client, [{ table: 'copy_ok', columns: ['n'], text: '7\n' }])).map((c) => c.rows),
      ).toEqual([1]);
    }));

  it('runs sql.first and sql.last in the same Query around the COPYs: one write, and a failing COPY skips what follows it', () =>
    withClient(async (client) => {
      await client.query('CREATE TEMP TABLE copy_tx (n int NOT NULL); CREATE TEMP TABLE copy_mark (done bool)');
      const tx = { first: 'BEGIN', last: 'INSERT INTO copy_mark VALUES (true); COMMIT' };
      const writes = recordWrites(client);
      try {
        expect(
          (await copyTables(client, [{ table: 'copy_tx', columns: ['n'], text: '1\n2\n' }], tx)).map((c) => c.rows),
        ).toEqual([2]);
      } finally {
        writes.restore();
      }
      expect(writes.calls).toEqual(['_writev']);
      await expect(copyTables(client, [{ table: 'copy_tx', columns: ['n'], text: '3\n\\N\n' }], tx)).rejects.toThrow(
        /null value in column "n"/,
      );
      // The COMMIT was skipped with the rest of the Query: the transaction is still open, and aborted.
      await expect(client.query('SELECT 1')).rejects.toThrow(/current transaction is aborted/);
      await client.query('ROLLBACK');
      const { rows } = await client.query<{ ns: number[]; marks: number }>(
        'SELECT (SELECT array_agg(n ORDER BY n) FROM copy_tx)::int[] AS ns, (SELECT count(*) FROM copy_mark)::int AS marks',
      );
      expect(rows[0]).toEqual({ ns: [1, 2], marks: 1 });
    }));

  it('a COPY statement that fails is rejected with its error, the rows sent with it are skipped and the client stays usable', () =>
    withClient(async (client) => {
      await client.query('CREATE TEMP TABLE copy_cols (n int)');
      await expect(copyRows(client, 'copy_cols', ['missing'], ['1\n', '2\n'])).rejects.toThrow(
        /column "missing" of relation "copy_cols" does not exist/,
      );
      await expect(copyRows(client, 'copy_absent', ['n'], ['1\n'])).rejects.toThrow(
        /relation "copy_absent" does not exist/,
      );
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
