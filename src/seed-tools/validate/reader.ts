import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { SERVICES } from '../../catalog/services.ts';
import { TABLES, entityOf, type EntityName } from '../../catalog/tables.ts';
import { lineBatches } from '../../seed/ndjson.ts';
import { entitySpec, ManifestSchema, ndjsonTable, type Manifest, type SeedRecord } from '../../seed/profile.ts';
import type { DataFile, DataTable, FindingSink } from './report.ts';

/**
 * Reading a profile for the validator. Unlike `loadProfile`, nothing here stops at
 * the first problem: every problem becomes a finding and the rest is still read.
 * JSON data files are parsed whole (as the loader does); NDJSON files are only
 * opened here and streamed in batches of lines by `recordBatches`.
 */

/** Catalog position of every table: files list their tables in this order. */
const CATALOG_ORDER = new Map<string, number>(
  SERVICES.flatMap((s) => TABLES[s].map((t) => entityOf(t) as string)).map((e, i) => [e, i]),
);

export async function readManifest(dir: string, sink: FindingSink): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dir, 'manifest.json'), 'utf8');
  } catch {
    sink.manifest(
      'error',
      undefined,
      `missing: a profile folder holds manifest.json (${path.join(dir, 'manifest.json')})`,
    );
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    sink.manifest('error', undefined, `invalid JSON: ${(err as Error).message}`);
    return undefined;
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) sink.manifest('error', issue.path.join('.') || undefined, issue.message);
    return undefined;
  }
  return parsed.data;
}

/**
 * Opens the files the manifest lists (manifest agreement: each exists, is listed
 * once and stays inside the folder; a data file in the folder that is not listed
 * is a warning, since it would silently not be loaded) and checks their outer shape.
 */
export async function openDataFiles(dir: string, manifest: Manifest, sink: FindingSink): Promise<DataFile[]> {
  const files: DataFile[] = [];
  const listed = new Set<string>();
  for (const [i, file] of manifest.files.entries()) {
    const field = `files.${i}`;
    const normal = path.posix.normalize(file);
    if (path.isAbsolute(file) || normal.startsWith('..') || file.split('/').includes('..')) {
      sink.manifest('error', field, `${file}: must be a path inside the profile folder`);
      continue;
    }
    if (listed.has(normal)) {
      sink.manifest('error', field, `${file} is listed twice: it would be loaded twice`);
      continue;
    }
    listed.add(normal);
    const index = files.length;
    const full = path.join(dir, file);
    const st = await stat(full).catch(() => undefined);
    if (!st?.isFile()) {
      sink.add('error', { file, message: 'listed in manifest.json but missing' }, index);
      files.push({
        index,
        path: file,
        full,
        kind: file.endsWith('.ndjson') ? 'ndjson' : 'json',
        ok: false,
        tables: [],
      });
      continue;
    }
    files.push(
      file.endsWith('.ndjson') ? await openNdjson(index, file, full, sink) : await openJson(index, file, full, sink),
    );
  }
  for (const extra of await dataFilesIn(dir)) {
    if (!listed.has(extra)) {
      sink.add(
        'warning',
        {
          file: extra,
          message: 'a data file that manifest.json does not list: it is never loaded (list it in "files" or remove it)',
        },
        files.length,
      );
    }
  }
  return files;
}

async function openJson(index: number, file: string, full: string, sink: FindingSink): Promise<DataFile> {
  const empty: DataFile = { index, path: file, full, kind: 'json', ok: false, tables: [] };
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(full, 'utf8'));
  } catch (err) {
    sink.add('error', { file, message: `invalid JSON: ${(err as Error).message}` }, index);
    return empty;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    sink.add('error', { file, message: 'a .json data file is an object {"description": ..., "tables": {...}}' }, index);
    return empty;
  }
  const { tables: raw, ...rest } = doc as Record<string, unknown>;
  for (const key of Object.keys(rest)) {
    if (key !== 'description')
      sink.add(
        'warning',
        { file, field: key, message: 'not part of the format (a data file has "description" and "tables"): ignored' },
        index,
      );
  }
  if ('description' in rest && typeof rest.description !== 'string')
    sink.add('error', { file, field: 'description', message: 'must be a string' }, index);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    sink.add(
      'error',
      { file, field: 'tables', message: 'missing or not an object {"<service>.<table>": [records]}' },
      index,
    );
    return empty;
  }
  const tables: DataTable[] = [];
  let base = 0;
  let lastOrder = -1;
  for (const [key, records] of Object.entries(raw as Record<string, unknown>)) {
    const spec = entitySpec(key);
    if (!spec) {
      sink.add(
        'error',
        {
          file,
          field: `tables.${key}`,
          message:
            'not a table of the catalog (write service.table, e.g. inventory.products): its records cannot be loaded',
        },
        index,
        base,
      );
      continue;
    }
    if (!Array.isArray(records)) {
      sink.add('error', { file, field: `tables.${key}`, message: 'must be an array of records' }, index, base);
      continue;
    }
    const order = CATALOG_ORDER.get(key) as number;
    if (order < lastOrder) {
      sink.add(
        'warning',
        {
          file,
          field: `tables.${key}`,
          message: 'tables are not in catalog load order (src/catalog: SERVICES, then TABLES[service])',
        },
        index,
        base,
      );
    }
    lastOrder = Math.max(lastOrder, order);
    tables.push({ entity: key as EntityName, spec, records, base });
    base += records.length;
  }
  return { index, path: file, full, kind: 'json', ok: true, tables };
}

async function openNdjson(index: number, file: string, full: string, sink: FindingSink): Promise<DataFile> {
  const table = await ndjsonTable(full);
  const spec = typeof table === 'string' ? entitySpec(table) : undefined;
  if (!spec) {
    sink.add(
      'error',
      {
        file,
        record: 'line 1',
        field: 'table',
        message: 'the first line must be {"table":"<service>.<table>"} naming a catalog table',
      },
      index,
      1,
    );
    return { index, path: file, full, kind: 'ndjson', ok: false, tables: [] };
  }
  return {
    index,
    path: file,
    full,
    kind: 'ndjson',
    ok: true,
    tables: [{ entity: table as EntityName, spec, base: 0 }],
  };
}

/** Every .json / .ndjson file under the profile folder but manifest.json, as posix paths relative to it. */
async function dataFilesIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !/\.(json|ndjson)$/.test(e.name)) continue;
    const rel = path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/');
    if (rel !== 'manifest.json') out.push(rel);
  }
  return out.sort();
}

/** One record of a data file: the parsed object, or why the line is not one. */
export type RawRecord = { readonly table: DataTable; readonly pos: number; readonly ordinal: number } & (
  { readonly rec: SeedRecord; readonly problem?: undefined } | { readonly rec?: undefined; readonly problem: string }
);

/**
 * The records of a file in order, in batches (a JSON file's table at a time, an NDJSON
 * file a chunk of lines at a time, `pos` being the line number), so a million-line
 * file costs one await per chunk.
 */
export async function* recordBatches(file: DataFile): AsyncGenerator<RawRecord[]> {
  if (file.kind === 'json') {
    for (const table of file.tables) {
      const list = table.records ?? [];
      const batch: RawRecord[] = [];
      for (let pos = 0; pos < list.length; pos++) {
        const rec = list[pos];
        if (rec === null || typeof rec !== 'object' || Array.isArray(rec))
          batch.push({ table, pos, ordinal: table.base + pos, problem: 'a record must be a JSON object' });
        else batch.push({ table, pos, ordinal: table.base + pos, rec: rec as SeedRecord });
      }
      yield batch;
    }
    return;
  }
  const table = file.tables[0];
  if (!table) return;
  for await (const { first, lines } of lineBatches(file.full, 256 * 1024)) {
    const batch: RawRecord[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      const lineNo = first + i;
      if (lineNo === 1 || line.length === 0) continue;
      let rec: unknown;
      try {
        rec = JSON.parse(line);
      } catch (err) {
        batch.push({ table, pos: lineNo, ordinal: lineNo, problem: `invalid JSON: ${(err as Error).message}` });
        continue;
      }
      if (rec === null || typeof rec !== 'object' || Array.isArray(rec))
        batch.push({ table, pos: lineNo, ordinal: lineNo, problem: 'each line must be a JSON object' });
      else batch.push({ table, pos: lineNo, ordinal: lineNo, rec: rec as SeedRecord });
    }
    yield batch;
  }
}
