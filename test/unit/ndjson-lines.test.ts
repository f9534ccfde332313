import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineBatches } from '../../src/seed/ndjson.ts';

describe('lineBatches', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'demo-seed-lines-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const collect = async (file: string, chunk: number) => {
    const out: { n: number; line: string }[] = [];
    for await (const { first, lines } of lineBatches(file, chunk))
      lines.forEach((line, i) => out.push({ n: first + i, line }));
    return out;
  };

  it('gives every line, numbered from 1, whatever the chunk size and line ends (\\n or \\r\\n, last one optional)', async () => {
    let k = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀', ' ', '\r', '{', '"'), maxLength: 12 }), {
          maxLength: 30,
        }),
        fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 64 }),
        async (lines, crlf, endsWithNewline, chunk) => {
          // A line's own trailing \r would read as part of a \r\n end: keep lines free of one.
          const clean = lines.map((l) => l.replace(/\r+$/, ''));
          if (clean.length === 0 && !endsWithNewline) return;
          const text = clean
            .map((l, i) => l + (i < clean.length - 1 || endsWithNewline ? (crlf[i] ? '\r\n' : '\n') : ''))
            .join('');
          const file = path.join(dir, `f${k++}.ndjson`);
          await writeFile(file, text);
          const got = await collect(file, chunk);
          // Without a final newline an empty last line is no line at all.
          const expected = !endsWithNewline && clean.at(-1) === '' ? clean.slice(0, -1) : clean;
          expect(got.map((g) => g.line)).toEqual(expected);
          expect(got.map((g) => g.n)).toEqual(expected.map((_, i) => i + 1));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reads an empty file as no lines', async () => {
    const file = path.join(dir, 'empty.ndjson');
    await writeFile(file, '');
    expect(await collect(file, 8)).toEqual([]);
  });
});
