import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateProfile } from '../../src/seed-tools/generate/index.ts';

/**
 * The scaled sales history: over a million rows, streamed to `.ndjson` with
 * bounded memory, counted exactly in the manifest.
 */
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'demo-seed-generate-large-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Lines of a file (newline bytes), read as a stream; also the first line. */
async function countLines(path: string): Promise<{ lines: number; first: string }> {
  let lines = 0;
  let head = '';
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer;
    if (lines === 0 && head.length < 200) head += buf.subarray(0, 200).toString('utf8');
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) lines++;
  }
  return { lines, first: head.split('\n')[0] as string };
}

describe('generate --scale', () => {
  it('streams 1,080,000 professional sales rows with bounded memory and counts them exactly', async () => {
    const out = join(tmp, 'professional-x4000');
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    try {
      const result = await generateProfile({ profile: 'professional', seed: 42, scale: 4000, out });
      expect(result.counts.sales?.sales_daily).toBe(1_080_000);
    } finally {
      clearInterval(timer);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(peak - before).toBeLessThan(150 * 1024 * 1024);

    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as {
      files: string[];
      counts: Record<string, Record<string, number>>;
      generator: { command: string; args: Record<string, unknown> };
    };
    expect(manifest.files).toContain('10-sales-historical.ndjson');
    expect(manifest.files).not.toContain('10-sales-historical.json');
    expect(await readdir(out)).not.toContain('10-sales-historical.json');
    expect(manifest.counts.sales?.sales_daily).toBe(1_080_000);
    expect(manifest.generator.args.scale).toBe(4000);
    expect(manifest.generator.command).toBe(
      'demo-seed generate --profile professional --seed 42 --scale 4000 --out seed-data/professional',
    );
    const { lines, first } = await countLines(join(out, '10-sales-historical.ndjson'));
    expect(first).toBe('{"table":"sales.sales_daily"}');
    expect(lines).toBe(1_080_000 + 1);
  }, 180_000);

  it('splits a big enterprise sales history into one ndjson file per outlet', async () => {
    const out = join(tmp, 'enterprise-x300');
    const result = await generateProfile({ profile: 'enterprise', seed: 42, scale: 300, out });
    const sales = result.files.filter((f) => f.endsWith('.ndjson'));
    expect(sales).toEqual([1, 2, 3].map((i) => `children/outlet-${i}-sales-historical.ndjson`));
    let total = 0;
    for (const f of sales) {
      const { lines, first } = await countLines(join(out, f));
      expect(first).toBe('{"table":"sales.sales_daily"}');
      total += lines - 1;
    }
    expect(total).toBe(90 * 3 * 3 * 300);
    expect(result.counts.sales?.sales_daily).toBe(total);
    const outlet = JSON.parse(await readFile(join(out, 'children/outlet-1.json'), 'utf8')) as {
      tables: Record<string, unknown[]>;
    };
    expect(Object.keys(outlet.tables)).not.toContain('sales.sales_daily');
  }, 120_000);
});
