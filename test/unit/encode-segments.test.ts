import { describe, expect, it } from 'vitest';
import type { Segment } from '../../src/seed/profile.ts';
import type { RecordEncoder } from '../../src/seed/transform.ts';
import { encodeSegments, JSON_BATCH } from '../../src/workers/service-job.ts';

// The COPY text of a table whose records are in memory (JSON profile files).
describe('encodeSegments (JSON segments)', () => {
  const encode: RecordEncoder = (r, file, i) => `${file}\t${String(r.n)}\t${i}\n`;
  const seg = (file: string, n: number, from = 0): Segment => ({ file, kind: 'json', records: Array.from({ length: n }, (_, i) => ({ n: from + i })) });
  const expected = (segs: Segment[]) =>
    segs.map((s) => (s.kind === 'json' ? s.records.map((r, i) => encode(r, s.file, i)).join('') : '')).join('');

  it('gives a small table as one string', () => {
    const segs = [seg('a.json', 3), seg('b.json', JSON_BATCH - 3, 3)];
    const out = encodeSegments(segs, encode);
    expect(Array.isArray(out)).toBe(true);
    expect(out).toEqual([expected(segs)]);
  });

  it('streams a big table in batches, the same text, giving the event loop a turn between them', async () => {
    const segs = [seg('a.json', JSON_BATCH + 7), seg('b.json', 2 * JSON_BATCH, 9_000)];
    const out = encodeSegments(segs, encode);
    expect(Array.isArray(out)).toBe(false);
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
      for await (const c of out as AsyncGenerator<string>) {
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
