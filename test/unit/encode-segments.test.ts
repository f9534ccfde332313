import { describe, expect, it } from 'vitest';
import type { Segment } from '../../src/seed/profile.ts';
import type { RecordEncoder } from '../../src/load/transform.ts';
import { encodeBatches, JSON_BATCH } from '../../src/load/segments.ts';

// The COPY text of a table whose records are in memory (JSON profile files).
describe('encodeBatches (JSON segments)', () => {
  const encode: RecordEncoder = (r, file, i) => `${file}\t${String(r.n)}\t${i}\n`;
  const seg = (file: string, n: number, from = 0): Segment => ({
    file,
    kind: 'json',
    records: Array.from({ length: n }, (_, i) => ({ n: from + i })),
  });
  const expected = (segs: Segment[]) =>
    segs.map((s) => (s.kind === 'json' ? s.records.map((r, i) => encode(r, s.file, i)).join('') : '')).join('');

  it('gives each segment its own batches, never two segments in one', async () => {
    const segs = [seg('a.json', 3), seg('b.json', JSON_BATCH - 3, 3)];
    const chunks: string[] = [];
    for await (const c of encodeBatches(segs, encode)) chunks.push(c);
    expect(chunks).toEqual([expected([segs[0] as Segment]), expected([segs[1] as Segment])]);
  });

  it('streams a big table in batches, the same text, giving the event loop a turn between them', async () => {
    const segs = [seg('a.json', JSON_BATCH + 7), seg('b.json', 2 * JSON_BATCH, 9_000)];
    const out = encodeBatches(segs, encode);
    let turns = 0;
    let handle: NodeJS.Immediate | undefined;
    const spin = () => {
      turns++;
      handle = setImmediate(spin);
    };
    spin();
    const chunks: string[] = [];
    const seen: number[] = [];
    try {
      for await (const c of out) {
        chunks.push(c);
        seen.push(turns);
      }
    } finally {
      clearImmediate(handle);
    }
    expect(chunks.join('')).toBe(expected(segs));
    // a.json: 2 batches, b.json: 2 batches; other callbacks ran between each two.
    expect(chunks.length).toBe(4);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1] as number);
  });
});
