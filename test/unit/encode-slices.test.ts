import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Segment } from '../../src/seed/profile.ts';
import type { RecordEncoder } from '../../src/load/transform.ts';
import { encodeBatches, ENCODE_SLICE_MS, JSON_BATCH } from '../../src/load/segments.ts';

/** A slow encoder: each record costs `us` microseconds of CPU, as big records on a busy machine do. */
const slow =
  (us: number): RecordEncoder =>
  (r, file, i) => {
    const until = performance.now() + us / 1000;
    while (performance.now() < until) {
      // busy: the event loop is held as by real encoding work
    }
    return `${file}\t${String(r.n)}\t${i}\n`;
  };

const jsonSeg = (file: string, n: number, from = 0): Segment => ({
  file,
  kind: 'json',
  records: Array.from({ length: n }, (_, i) => ({ n: from + i })),
});

/** The text as one plain loop makes it: what the sliced encoder must give, batch for batch. */
function unsliced(
  segs: readonly Segment[],
  records: (s: Segment) => readonly Record<string, unknown>[],
  encode: RecordEncoder,
): string[] {
  const batches: string[] = [];
  for (const s of segs) {
    const all = records(s);
    for (let start = 0; start < all.length; start += JSON_BATCH) {
      batches.push(
        all
          .slice(start, start + JSON_BATCH)
          .map((r, k) => encode(r, s.file, start + k))
          .join(''),
      );
    }
  }
  return batches;
}

async function drain(out: AsyncGenerator<string>): Promise<string[]> {
  const chunks: string[] = [];
  for await (const c of out) chunks.push(c);
  return chunks;
}

describe('encodeBatches in slices (a slow batch yields to the event loop)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'encode-slices-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * An encoder that costs 40 µs a record and, at its first record, sets a 1 ms timer:
   * `firedAt` is how many records were encoded when the timer ran. Set mid-batch, it can
   * only run before the batch is done if the encoder gives the event loop a turn.
   */
  function probe() {
    const state: { encoded: number; firedAt?: number; timer?: NodeJS.Timeout } = { encoded: 0 };
    const plain: RecordEncoder = (r, f, i) => `${f}\t${String(r.n)}\t${i}\n`;
    const encode: RecordEncoder = (r, f, i) => {
      if (state.encoded++ === 0) state.timer = setTimeout(() => (state.firedAt = state.encoded), 1);
      slow(40)(r, f, i);
      return plain(r, f, i);
    };
    return { state, plain, encode };
  }

  it('a big JSON table: a timer set while its first batch is encoded runs before that batch is done', async () => {
    // One batch of JSON_BATCH records at 40 µs each: some 80 ms of work, many times ENCODE_SLICE_MS.
    expect(ENCODE_SLICE_MS).toBeLessThan(40);
    const segs = [jsonSeg('a.json', JSON_BATCH + 1)];
    const { state, plain, encode } = probe();
    const chunks = await drain(encodeBatches(segs, encode));
    clearTimeout(state.timer);
    expect(state.firedAt, 'records encoded when the timer ran').toBeLessThan(JSON_BATCH);
    // Same batches, same text as without slices.
    expect(chunks).toEqual(unsliced(segs, (s) => (s.kind === 'json' ? s.records : []), plain));
  });

  it('an NDJSON segment read in one chunk: the same, and the same text as one loop', async () => {
    const file = path.join(dir, 'big.ndjson');
    const n = 3_000; // some 40 KB: one read, batches of JSON_BATCH and the rest
    const recs = Array.from({ length: n }, (_, i) => ({ n: i }));
    writeFileSync(file, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const segs: Segment[] = [{ file: 'big.ndjson', kind: 'ndjson', path: file, firstLine: 0 }];
    const { state, plain, encode } = probe();
    const text = (await drain(encodeBatches(segs, encode))).join('');
    clearTimeout(state.timer);
    expect(state.firedAt, 'records encoded when the timer ran').toBeLessThan(JSON_BATCH);
    expect(text).toBe(recs.map((r, i) => plain(r, 'big.ndjson', i)).join(''));
    expect((await drain(encodeBatches(segs, plain))).join('')).toBe(text);
  });

  it('several JSON segments, slow and fast: batches and text unchanged by the slicing', async () => {
    const segs = [
      jsonSeg('a.json', JSON_BATCH + 7),
      jsonSeg('b.json', 300, 50_000),
      jsonSeg('c.json', JSON_BATCH * 2, 9_000),
    ];
    const plain: RecordEncoder = (r, f, i) => `${f}\t${String(r.n)}\t${i}\n`;
    const expected = unsliced(segs, (s) => (s.kind === 'json' ? s.records : []), plain);
    expect(await drain(encodeBatches(segs, plain))).toEqual(expected);
    expect(await drain(encodeBatches(segs, (r, f, i) => (slow(5)(r, f, i), plain(r, f, i))))).toEqual(expected);
  });
});
