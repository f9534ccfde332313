import type { EntityName, TableSpec } from '../../catalog/tables.ts';
import type { Finding } from '../../seed/errors.ts';
import type { SeedRecord } from '../../seed/profile.ts';

/** The validator's answer for one profile. */
export interface ValidationReport {
  readonly profile: string;
  /** FAILED when there are errors (`passes(report, true)` also fails on warnings). */
  readonly status: 'PASSED' | 'FAILED';
  readonly errors: Finding[];
  readonly warnings: Finding[];
  /**
   * `files`: data files read; `records`: records of catalog tables read.
   * `errors` / `warnings`: how many findings there were in all: the lists above
   * keep the first MAX_FINDINGS of each, so a badly broken million-row file does
   * not fill the memory.
   */
  readonly stats: { files: number; records: number; errors: number; warnings: number };
}

/** A profile passes with no errors; in strict mode also with no warnings. */
export function passes(report: ValidationReport, strict = false): boolean {
  return report.stats.errors === 0 && (!strict || report.stats.warnings === 0);
}

export const MAX_FINDINGS = 1000;

export type Severity = 'error' | 'warning';

/** A data file of the profile, numbered in manifest order (the manifest itself is -1). */
export interface DataFile {
  readonly index: number;
  /** As listed in manifest.json, relative to the profile folder. */
  readonly path: string;
  readonly full: string;
  readonly kind: 'json' | 'ndjson';
  /** Read: it exists and its outer shape (JSON document, NDJSON header) is right. */
  readonly ok: boolean;
  /** JSON: the tables in file order; NDJSON: its one table (records are streamed). */
  readonly tables: readonly DataTable[];
}

export interface DataTable {
  readonly entity: EntityName;
  readonly spec: TableSpec;
  /** JSON files only. */
  readonly records?: readonly unknown[];
  /** Ordinal of the table's first record within its file (for sorting findings). */
  readonly base: number;
}

/**
 * One record as the rules see it. `pos` is the index in its JSON table or the
 * NDJSON line number; `label` is what findings call it (its id, `line N`, or `#n`).
 */
export interface RecordView {
  readonly table: DataTable;
  readonly spec: TableSpec;
  readonly entity: EntityName;
  readonly rec: SeedRecord;
  readonly file: DataFile;
  readonly pos: number;
  readonly ordinal: number;
  readonly label: string;
  /** Columns whose value has a structural problem (missing, null in NOT NULL, wrong JSON type): other rules skip them. */
  readonly bad: ReadonlySet<string>;
}

/** Where a record is, kept by the rules that report on it after the pass (small: referenceable records only). */
export interface Place {
  readonly file: number;
  readonly ordinal: number;
  readonly label: string;
}

export function placeOf(r: RecordView): Place {
  return { file: r.file.index, ordinal: r.ordinal, label: r.label };
}

/** Findings of one validation, kept in a stable order: by file (manifest order), then record. */
export class FindingSink {
  private readonly kept: { severity: Severity; finding: Finding; file: number; ordinal: number; seq: number }[] = [];
  private seq = 0;
  private readonly counts = { error: 0, warning: 0 };
  private readonly keptCounts = { error: 0, warning: 0 };

  /** Paths of the data files by index, set once they are known. */
  fileNames: readonly string[] = [];

  get errorCount(): number {
    return this.counts.error;
  }

  add(severity: Severity, finding: Finding, file = -1, ordinal = -1): void {
    this.counts[severity]++;
    if (this.keptCounts[severity] >= MAX_FINDINGS) return;
    this.keptCounts[severity]++;
    this.kept.push({ severity, finding: clean(finding), file, ordinal, seq: this.seq++ });
  }

  /** A finding about a record. */
  at(severity: Severity, r: RecordView, field: string | undefined, message: string): void {
    this.add(severity, { file: r.file.path, record: r.label, field, message }, r.file.index, r.ordinal);
  }

  /** A finding about a record known by its place. */
  atPlace(severity: Severity, p: Place, field: string | undefined, message: string): void {
    this.add(severity, { file: this.fileNames[p.file] ?? '?', record: p.label, field, message }, p.file, p.ordinal);
  }

  /** A finding about manifest.json. */
  manifest(severity: Severity, field: string | undefined, message: string, record?: string): void {
    this.add(severity, { file: 'manifest.json', record, field, message }, -1, -1);
  }

  report(profile: string, stats: { files: number; records: number }): ValidationReport {
    const sorted = [...this.kept].sort((a, b) => a.file - b.file || a.ordinal - b.ordinal || a.seq - b.seq);
    const errors = sorted.filter((k) => k.severity === 'error').map((k) => k.finding);
    const warnings = sorted.filter((k) => k.severity === 'warning').map((k) => k.finding);
    return {
      profile,
      status: this.counts.error > 0 ? 'FAILED' : 'PASSED',
      errors,
      warnings,
      stats: { ...stats, errors: this.counts.error, warnings: this.counts.warning },
    };
  }
}

function clean(f: Finding): Finding {
  const out: { file: string; record?: string; field?: string; message: string } = { file: f.file, message: f.message };
  if (f.record !== undefined) out.record = f.record;
  if (f.field !== undefined) out.field = f.field;
  return out;
}

/** The common state of one validation, handed to every rule family. */
export interface RuleContext {
  readonly sink: FindingSink;
  readonly referenceDate: string;
  readonly historyDays: number;
  readonly tenants: readonly { readonly id: string; readonly role: 'main' | 'parent' | 'child' }[];
  readonly files: readonly DataFile[];
}

/**
 * A family of rules. `visit` sees every record once, in manifest order;
 * `resolve` sees it again once every record that can be referenced has been
 * visited (rules that look up other records go there); `finish` reports what
 * needs the whole profile.
 */
export interface RuleFamily {
  visit?(r: RecordView): void;
  resolve?(r: RecordView): void;
  finish?(): void;
}

/** The columns of a table by kind, computed once per table (the rules run per record, millions of times). */
export interface Columns {
  /** id, tenant and ref columns, with the ref's entity. */
  readonly uuids: readonly {
    readonly name: string;
    readonly kind: 'id' | 'tenant' | 'ref';
    readonly entity?: EntityName;
  }[];
  readonly dates: readonly { readonly name: string; readonly kind: 'date' | 'timestamp' }[];
}

const COLUMNS = new WeakMap<TableSpec, Columns>();

export function columnsOf(spec: TableSpec): Columns {
  let c = COLUMNS.get(spec);
  if (!c) {
    const uuids: Columns['uuids'][number][] = [];
    const dates: Columns['dates'][number][] = [];
    for (const [name, col] of Object.entries(spec.columns)) {
      if (col.kind === 'id' || col.kind === 'tenant') uuids.push({ name, kind: col.kind });
      else if (col.kind === 'ref') uuids.push({ name, kind: 'ref', entity: col.entity });
      else if (col.kind === 'date' || col.kind === 'timestamp') dates.push({ name, kind: col.kind });
    }
    c = { uuids, dates };
    COLUMNS.set(spec, c);
  }
  return c;
}

/** Value of a column that passed the structure checks, else undefined (null stays null). */
export function value(r: RecordView, column: string): unknown {
  return r.bad.has(column) ? undefined : r.rec[column];
}

export function str(r: RecordView, column: string): string | undefined {
  const v = value(r, column);
  return typeof v === 'string' ? v : undefined;
}

export function num(r: RecordView, column: string): number | undefined {
  const v = value(r, column);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function fmt(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}
