import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../support/harness.ts';

/** What db/pools.ts says of the values pg hands back. */
describe('database pools', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('give numeric, int8 and date as strings (a day stays that day in any time zone) and timestamptz as a Date', async () => {
    const { rows } = await h.rt.dbs
      .pool('demo_session')
      .query<{ n: unknown; i: unknown; d: unknown; t: unknown }>(
        "SET TIME ZONE 'Pacific/Kiritimati'; SELECT 1.50::numeric AS n, 9007199254740993::int8 AS i, '2026-01-02'::date AS d, now() AS t",
      )
      .then((r) => (Array.isArray(r) ? r[1] : r) as { rows: { n: unknown; i: unknown; d: unknown; t: unknown }[] });
    const row = rows[0]!;
    expect(row.n).toBe('1.50');
    expect(row.i).toBe('9007199254740993');
    expect(row.d).toBe('2026-01-02');
    expect(row.t).toBeInstanceOf(Date);
  });
});
