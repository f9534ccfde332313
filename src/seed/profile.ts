import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { isServiceName, type ServiceName } from '../catalog/services.ts';
import { TABLES, tableSpec, type EntityName, type TableSpec } from '../catalog/tables.ts';
import { DATE_RE } from './dates.ts';
import { SeedDataError, type Finding } from './errors.ts';
import { UUID_RE } from '../shared/uuid.ts';
import { lineBatches } from './ndjson.ts';

export const PROFILE_NAME_RE = /^[a-z][a-z0-9_-]{0,63}$/;

export const ManifestSchema = z.object({
  profile: z.string().regex(PROFILE_NAME_RE),
  format_version: z.literal(1),
  description: z.string().optional(),
  reference_date: z.string().regex(DATE_RE, 'must be YYYY-MM-DD'),
  history_days: z.number().int().min(1).max(3660),
  tenants: z
    .array(
      z.object({
        id: z.string().regex(UUID_RE, 'must be a uuid'),
        role: z.enum(['main', 'parent', 'child']),
        name: z.string().optional(),
      }),
    )
    .min(1),
  /**
   * The profile's main user, a row of auth.users of the main tenant (the validator checks):
   * the demo token is issued for its per-session id. Optional here so that older profiles
   * still read; both checked-in profiles have it.
   */
  owner: z
    .object({
      user_id: z.string().regex(UUID_RE, 'must be a uuid'),
      role: z.string().min(1),
    })
    .strict()
    .optional(),
  files: z
    .array(z.string().regex(/^[A-Za-z0-9_.\/-]+\.(json|ndjson)$/, 'must be a relative .json or .ndjson path'))
    .min(1),
  counts: z.record(z.string(), z.record(z.string(), z.number().int().min(0))),
  generator: z.record(z.string(), z.unknown()).optional(),
});
export type Manifest = z.output<typeof ManifestSchema>;

export type SeedRecord = Record<string, unknown>;

/** Where a table's records come from: a parsed JSON file, or an NDJSON file read as a stream. */
export type Segment =
  | { readonly file: string; readonly kind: 'json'; readonly records: readonly SeedRecord[] }
  | { readonly file: string; readonly kind: 'ndjson'; readonly path: string; readonly firstLine: number };

export interface LoadedProfile {
  readonly name: string;
  readonly dir: string;
  readonly manifest: Manifest;
  /** Segments per entity, in manifest file order. */
  readonly segments: ReadonlyMap<EntityName, readonly Segment[]>;
}

const JsonFileSchema = z.object({
  description: z.string().optional(),
  tables: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
});

/** Reads a profile's manifest and data files (NDJSON files are only opened, not read). */
export async function loadProfile(dataDir: string, name: string): Promise<LoadedProfile> {
  if (!PROFILE_NAME_RE.test(name)) {
    throw new SeedDataError([{ file: name, message: 'profile names are lower-case letters, digits, - and _' }]);
  }
  const dir = path.resolve(dataDir, name);
  const manifestPath = path.join(dir, 'manifest.json');
  let raw: string;
  try {
    raw = await readFile(manifestPath, 'utf8');
  } catch {
    throw new SeedDataError([
      { file: `${name}/manifest.json`, message: `profile "${name}" not found: no ${manifestPath}` },
    ]);
  }
  const manifest = parseWith(ManifestSchema, raw, `${name}/manifest.json`);
  const segments = new Map<EntityName, Segment[]>();
  const findings: Finding[] = [];
  for (const file of manifest.files) {
    if (file.split('/').includes('..')) {
      findings.push({ file: 'manifest.json', field: 'files', message: `${file}: must stay inside the profile` });
      continue;
    }
    const full = path.join(dir, file);
    if (file.endsWith('.ndjson')) {
      const table = await readNdjsonHeader(full, file, findings);
      if (table) push(segments, table.entity, { file, kind: 'ndjson', path: full, firstLine: 2 });
      continue;
    }
    let text: string;
    try {
      text = await readFile(full, 'utf8');
    } catch {
      findings.push({ file, message: 'listed in manifest.json but missing' });
      continue;
    }
    let parsed: z.output<typeof JsonFileSchema>;
    try {
      parsed = parseWith(JsonFileSchema, text, file);
    } catch (err) {
      if (err instanceof SeedDataError) findings.push(...err.findings);
      continue;
    }
    for (const [key, records] of Object.entries(parsed.tables)) {
      const spec = entitySpec(key);
      if (!spec) {
        findings.push({
          file,
          field: `tables.${key}`,
          message: 'not a table of the catalog (write service.table, e.g. inventory.products)',
        });
        continue;
      }
      push(segments, key as EntityName, { file, kind: 'json', records });
    }
  }
  if (findings.length > 0) throw new SeedDataError(findings);
  return { name, dir, manifest, segments };
}

export function entitySpec(key: string): TableSpec | undefined {
  const dot = key.indexOf('.');
  if (dot < 0) return undefined;
  const service = key.slice(0, dot);
  return isServiceName(service) ? tableSpec(service, key.slice(dot + 1)) : undefined;
}

/** The tables of a service that the profile fills, in load order. */
export function serviceTables(
  profile: LoadedProfile,
  service: ServiceName,
): { spec: TableSpec; segments: readonly Segment[] }[] {
  return TABLES[service]
    .map((spec) => ({ spec, segments: profile.segments.get(`${service}.${spec.name}`) ?? [] }))
    .filter((t) => t.segments.length > 0);
}

/** Every record of a segment, parsed; NDJSON is streamed line by line. */
export async function* segmentRecords(segment: Segment): AsyncGenerator<SeedRecord> {
  for await (const batch of segmentBatches(segment)) yield* batch.records;
}

/**
 * A segment's records in batches, with the index of each batch's first record.
 * NDJSON is read in 64 KiB chunks and split by hand: a million-row file costs
 * one await per chunk, not one per line, and each batch dies young (a worker
 * loading a million rows stays within some 40 MB of its resting size).
 */
export async function* segmentBatches(
  segment: Segment,
): AsyncGenerator<{ first: number; records: readonly SeedRecord[] }> {
  if (segment.kind === 'json') {
    yield { first: 0, records: segment.records };
    return;
  }
  let index = 0;
  for await (const { first, lines } of lineBatches(segment.path)) {
    const records: SeedRecord[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      const lineNo = first + i;
      if (lineNo < segment.firstLine || line.length === 0) continue;
      let rec: unknown;
      try {
        rec = JSON.parse(line);
      } catch (err) {
        throw new SeedDataError([
          { file: segment.file, record: `line ${lineNo}`, message: `invalid JSON: ${(err as Error).message}` },
        ]);
      }
      if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) {
        throw new SeedDataError([
          { file: segment.file, record: `line ${lineNo}`, message: 'each line must be a JSON object' },
        ]);
      }
      records.push(rec as SeedRecord);
    }
    if (records.length > 0) {
      yield { first: index, records };
      index += records.length;
    }
  }
}

/** The `table` an NDJSON seed file's first line names, if it is a JSON object with one. */
export async function ndjsonTable(full: string): Promise<unknown> {
  const lines = createInterface({
    input: createReadStream(full, { encoding: 'utf8', end: 64 * 1024 }),
    crlfDelay: Infinity,
  });
  let first: string | undefined;
  for await (const line of lines) {
    first = line;
    break;
  }
  lines.close();
  try {
    return (JSON.parse(first ?? '') as { table?: unknown } | null)?.table;
  } catch {
    return undefined;
  }
}

async function readNdjsonHeader(
  full: string,
  file: string,
  findings: Finding[],
): Promise<{ entity: EntityName } | undefined> {
  try {
    await stat(full);
  } catch {
    findings.push({ file, message: 'listed in manifest.json but missing' });
    return undefined;
  }
  const table = await ndjsonTable(full);
  if (typeof table !== 'string' || !entitySpec(table)) {
    findings.push({
      file,
      record: 'line 1',
      field: 'table',
      message: 'the first line must be {"table":"<service>.<table>"} naming a catalog table',
    });
    return undefined;
  }
  return { entity: table as EntityName };
}

function parseWith<S extends z.ZodType>(schema: S, text: string, file: string): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SeedDataError([{ file, message: `invalid JSON: ${(err as Error).message}` }]);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new SeedDataError(
      parsed.error.issues.map((i) => ({ file, field: i.path.join('.') || undefined, message: i.message })) as Finding[],
    );
  }
  return parsed.data;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The profiles of a seed-data root: its folders that hold a manifest.json (sorted). */
export function listProfiles(dataDir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dataDir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
  return entries
    .filter((name) => PROFILE_NAME_RE.test(name) && existsSync(path.join(dataDir, name, 'manifest.json')))
    .sort();
}
