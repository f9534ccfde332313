import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname, join, relative, sep } from 'node:path';
import { finished } from 'node:stream/promises';
import type { EntityName } from '../../catalog/tables.ts';
import { catalogIndex, type SeedRecord } from './records.ts';

/** Rows of one table; generators are consumed lazily, so big tables are never held in memory. */
export type Rows = Iterable<SeedRecord>;

/** A `.json` data file: `{"description", "tables": {"<service>.<table>": [...]}}`. */
export interface JsonFilePlan {
  readonly kind: 'json';
  readonly path: string;
  readonly description: string;
  readonly tables: ReadonlyArray<readonly [EntityName, Rows]>;
}

/** A `.ndjson` data file: a `{"table": ...}` line, then one record per line. */
export interface NdjsonFilePlan {
  readonly kind: 'ndjson';
  readonly path: string;
  readonly table: EntityName;
  readonly rows: Rows;
}

export type FilePlan = JsonFilePlan | NdjsonFilePlan;

export interface WrittenFile {
  readonly path: string;
  /** Records per table, in the order written. */
  readonly counts: ReadonlyMap<EntityName, number>;
  readonly rows: number;
}

const FLUSH_AT = 1 << 16;

/** Buffers small strings into 64 KiB chunks and waits for `drain` when the stream asks to. */
class Sink {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly stream: WriteStream) {}

  get full(): boolean {
    return this.size >= FLUSH_AT;
  }

  put(text: string): void {
    this.parts.push(text);
    this.size += text.length;
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const chunk = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await finished(this.stream);
  }
}

/** Writes one planned file under `outDir`, streaming its records. */
export async function writeDataFile(outDir: string, plan: FilePlan): Promise<WrittenFile> {
  const target = join(outDir, plan.path);
  await mkdir(dirname(target), { recursive: true });
  const stream = createWriteStream(target, { encoding: 'utf8' });
  const sink = new Sink(stream);
  const counts = new Map<EntityName, number>();
  try {
    if (plan.kind === 'ndjson') {
      sink.put(`${JSON.stringify({ table: plan.table })}\n`);
      let n = 0;
      for (const rec of plan.rows) {
        sink.put(`${JSON.stringify(rec)}\n`);
        n++;
        if (sink.full) await sink.flush();
      }
      counts.set(plan.table, n);
    } else {
      await writeJsonBody(sink, plan, counts);
    }
    await sink.close();
  } catch (err) {
    stream.destroy();
    throw err;
  }
  let rows = 0;
  for (const n of counts.values()) rows += n;
  return { path: plan.path, counts, rows };
}

async function writeJsonBody(sink: Sink, plan: JsonFilePlan, counts: Map<EntityName, number>): Promise<void> {
  const tables = [...plan.tables].sort((a, b) => catalogIndex(a[0]) - catalogIndex(b[0]));
  const seen = new Set<EntityName>();
  sink.put(`{\n  "description": ${JSON.stringify(plan.description)},\n  "tables": {`);
  let firstTable = true;
  for (const [entity, rows] of tables) {
    if (seen.has(entity)) throw new Error(`${plan.path}: table ${entity} planned twice`);
    seen.add(entity);
    let n = 0;
    for (const rec of rows) {
      if (n === 0) {
        sink.put(`${firstTable ? '' : ','}\n    ${JSON.stringify(entity)}: [\n      `);
        firstTable = false;
      } else {
        sink.put(',\n      ');
      }
      sink.put(JSON.stringify(rec));
      n++;
      if (sink.full) await sink.flush();
    }
    if (n > 0) {
      sink.put('\n    ]');
      counts.set(entity, n);
    }
  }
  sink.put(firstTable ? '}\n}\n' : '\n  }\n}\n');
}

/** Writes `value` as 2-space indented JSON with a final newline. */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const stream = createWriteStream(path, { encoding: 'utf8' });
  stream.end(`${JSON.stringify(value, null, 2)}\n`);
  await finished(stream);
}

/**
 * Removes the files under `outDir` whose relative path (with `/`) matches
 * `pattern` but that are not in `keep`: what a run with other arguments left.
 */
export async function removeStale(outDir: string, keep: ReadonlySet<string>, pattern: RegExp): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of await readdir(outDir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = relative(outDir, join(entry.parentPath, entry.name)).split(sep).join('/');
    if (pattern.test(path) && !keep.has(path)) {
      await rm(join(outDir, path), { force: true });
      removed.push(path);
    }
  }
  return removed;
}
