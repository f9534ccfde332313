import { stat } from 'node:fs/promises';
import path from 'node:path';
import { SeedDataError } from '../../seed/errors.ts';
import { PROFILE_NAME_RE, type Manifest } from '../../seed/profile.ts';
import { BusinessRules } from './business.ts';
import { IdentityRules } from './identities.ts';
import { IdRules, REFERENCEABLE } from './ids.ts';
import { checkCounts, checkManifest } from './manifest.ts';
import { openDataFiles, readManifest, recordBatches, type RawRecord } from './reader.ts';
import { ReferenceRules } from './references.ts';
import {
  FindingSink,
  type DataFile,
  type DataTable,
  type RecordView,
  type RuleContext,
  type RuleFamily,
  type ValidationReport,
} from './report.ts';
import { StructureRules, structureProblems } from './structure.ts';
import { TemporalRules } from './temporal.ts';

export { passes, type ValidationReport } from './report.ts';

/**
 * The seed-data validator: `validateProfile(dataDir, profile)` checks a profile
 * folder and reports every problem it finds, each naming the file, the record
 * (its id, or `line N` in an NDJSON file) and the field. The rule families, one
 * file each, document their rules and thresholds:
 *
 * - structure.ts: tables and columns, nulls, JSON types (a precondition: a column
 *   that fails it is left out of the other rules);
 * - ids.ts: UUIDv4 format, ids unique in the whole profile;
 * - references.ts: refs, tenants and cross-service ids resolve inside the profile;
 * - temporal.ts: dates parse, lie in the history window (or in the allowed
 *   future), starts before ends, deliveries on or after orders;
 * - business.ts: quantities and prices, order totals, recipes, routes, forecasts;
 * - identities.ts: emails, slugs and codes (valid, unique across tenants where the
 *   platform keeps them so), and the manifest's owner;
 * - manifest.ts and reader.ts: the manifest agrees with the files and the records.
 *
 * Memory stays bounded on million-row NDJSON files: records are streamed, and only
 * the records other records can reference are remembered, with the few fields the
 * rules need (see ids.ts for how ids of the other records are checked for
 * uniqueness). The order of work:
 *
 * 1. every JSON record, and every record of an NDJSON table that something can
 *    reference, is visited (per-record rules; what can be referenced is indexed);
 * 2. once all of those are indexed, every record is resolved (references, rules
 *    across records); NDJSON tables nothing references (sales history) are
 *    streamed once, visited and resolved together;
 * 3. only if an id may be duplicated among non-referenceable records, the profile
 *    is read again to find where;
 * 4. rules over the whole profile, and the manifest counts.
 */
export async function validateProfile(dataDir: string, profile: string): Promise<ValidationReport> {
  const dir = path.resolve(dataDir, profile);
  if (!PROFILE_NAME_RE.test(profile)) {
    throw new UnknownProfileError(
      profile,
      dir,
      `"${profile}" is not a profile name (lower-case letters, digits, - and _)`,
    );
  }
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory())
    throw new UnknownProfileError(profile, dir, `profile "${profile}" not found: no folder ${dir}`);

  const sink = new FindingSink();
  const manifest = await readManifest(dir, sink);
  if (!manifest) return sink.report(profile, { files: 0, records: 0 });
  const usable = checkManifest(manifest, profile, sink);
  const files = await openDataFiles(dir, manifest, sink);
  sink.fileNames = files.map((f) => f.path);
  const stats = { files: files.filter((f) => f.ok).length, records: 0 };
  if (!usable) return sink.report(profile, stats);

  const ctx: RuleContext = {
    sink,
    referenceDate: manifest.reference_date,
    historyDays: manifest.history_days,
    tenants: manifest.tenants,
    files,
  };
  const ids = new IdRules(ctx, otherIds(manifest));
  const structure = new StructureRules(sink);
  const families: RuleFamily[] = [
    ids,
    new TemporalRules(ctx),
    new BusinessRules(ctx),
    new ReferenceRules(ctx, ids),
    new IdentityRules(ctx, manifest.owner),
  ];
  const found = new Map<string, number>();
  const perTable = new Map<DataTable, { n: number }>();
  let counter = { n: 0 };
  let counted: DataTable | undefined;

  /** The record as the rules see it; reports its structural problems when `report`. */
  const view = (file: DataFile, raw: RawRecord, report: boolean): RecordView | undefined => {
    const { table, pos, ordinal } = raw;
    if (raw.rec === undefined) {
      if (report)
        sink.add(
          'error',
          { file: file.path, record: file.kind === 'ndjson' ? `line ${pos}` : `#${pos}`, message: raw.problem },
          file.index,
          ordinal,
        );
      return undefined;
    }
    const rec = raw.rec;
    const label =
      file.kind === 'ndjson' ? `line ${pos}` : typeof rec.id === 'string' && rec.id !== '' ? rec.id : `#${pos}`;
    const problems = structureProblems(table.spec, rec);
    const bad = problems.length === 0 ? NONE : new Set(problems.filter((p) => p.column).map((p) => p.field));
    const r: RecordView = { table, spec: table.spec, entity: table.entity, rec, file, pos, ordinal, label, bad };
    if (report) structure.report(r, problems);
    return r;
  };
  const visit = (r: RecordView): void => {
    stats.records++;
    if (r.table !== counted) {
      counted = r.table;
      counter = perTable.get(r.table) ?? { n: 0 };
      perTable.set(r.table, counter);
    }
    counter.n++;
    for (const f of families) f.visit?.(r);
  };
  const resolve = (r: RecordView): void => {
    for (const f of families) f.resolve?.(r);
  };
  /** NDJSON tables that nothing references are streamed once, in the second pass. */
  const late = (file: DataFile): boolean =>
    file.kind === 'ndjson' && !file.tables.some((t) => REFERENCEABLE.has(t.entity));

  for (const file of files) {
    if (late(file)) continue;
    for await (const batch of recordBatches(file)) {
      for (const raw of batch) {
        const r = view(file, raw, true);
        if (r) visit(r);
      }
    }
  }
  for (const file of files) {
    const once = late(file);
    for await (const batch of recordBatches(file)) {
      for (const raw of batch) {
        const r = view(file, raw, once);
        if (!r) continue;
        if (once) visit(r);
        resolve(r);
      }
    }
  }
  if (ids.needsRescan) {
    for (const file of files) {
      for await (const batch of recordBatches(file)) {
        for (const raw of batch) {
          const r = view(file, raw, false);
          if (r) ids.rescan(r);
        }
      }
    }
  }
  for (const [table, { n }] of perTable) found.set(table.entity, (found.get(table.entity) ?? 0) + n);
  for (const f of families) f.finish?.();
  checkCounts(manifest, found, sink);
  return sink.report(profile, stats);
}

const NONE: ReadonlySet<string> = new Set();

/** How many records of tables nothing references the manifest announces (sizes the id filter). */
function otherIds(manifest: Manifest): number {
  let n = 0;
  for (const [service, tables] of Object.entries(manifest.counts)) {
    for (const [table, count] of Object.entries(tables))
      if (!REFERENCEABLE.has(`${service}.${table}` as never)) n += count;
  }
  return n;
}

/**
 * The profile folder does not exist (or the name is not a profile name): a bad
 * argument rather than bad data. A SeedDataError, so every caller that handles
 * bad seed data handles this too.
 */
export class UnknownProfileError extends SeedDataError {
  override name = 'UnknownProfileError';
  constructor(
    readonly profile: string,
    readonly dir: string,
    readonly reason: string,
  ) {
    super([{ file: `${profile}/manifest.json`, message: reason }]);
  }
}
