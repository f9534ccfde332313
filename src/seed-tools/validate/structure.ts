import type { ColumnSpec, TableSpec } from '../../catalog/tables.ts';
import type { SeedRecord } from '../../seed/profile.ts';
import type { FindingSink, RecordView } from './report.ts';

/**
 * Structure, the precondition of every other rule: a record has exactly its
 * table's columns, `null` only where the column is nullable, and each value has
 * the JSON type its column kind needs (the loader's COPY encoder refuses
 * anything else):
 *
 * | kind | JSON value |
 * |---|---|
 * | id, tenant, ref, date, timestamp, text | string (formats are checked by the id and temporal rules) |
 * | int | a whole number (safe integer) |
 * | numeric | a finite number |
 * | bool | true or false |
 * | json | an object or an array |
 *
 * A column with a structural problem is left out of every other rule for that
 * record, so one mistake gives one finding. Unknown tables (in a .json file's
 * "tables" or an .ndjson header) are reported by the reader; their records are
 * not read at all.
 */
export interface StructureProblem {
  readonly field: string;
  readonly message: string;
  /** The column exists in the table (an extra key is not a column). */
  readonly column: boolean;
}

const ENTRIES = new WeakMap<TableSpec, readonly (readonly [string, ColumnSpec])[]>();

export function structureProblems(spec: TableSpec, rec: SeedRecord): StructureProblem[] {
  const problems: StructureProblem[] = [];
  const entity = `${spec.service}.${spec.name}`;
  let entries = ENTRIES.get(spec);
  if (!entries) {
    entries = Object.entries(spec.columns);
    ENTRIES.set(spec, entries);
  }
  let seen = 0;
  for (const [name, col] of entries) {
    if (!Object.hasOwn(rec, name)) {
      problems.push({
        field: name,
        column: true,
        message: `missing (every record of ${entity} has ${Object.keys(spec.columns).join(', ')})`,
      });
      continue;
    }
    seen++;
    const v = rec[name];
    if (v === null) {
      if (!isNullable(col))
        problems.push({ field: name, column: true, message: 'must not be null (the column is NOT NULL)' });
      continue;
    }
    const wrong = typeProblem(col, v);
    if (wrong) problems.push({ field: name, column: true, message: wrong });
  }
  if (Object.keys(rec).length !== seen) {
    for (const key of Object.keys(rec)) {
      if (!Object.hasOwn(spec.columns, key))
        problems.push({ field: key, column: false, message: `not a column of ${entity}` });
    }
  }
  return problems;
}

export function isNullable(col: ColumnSpec): boolean {
  return 'nullable' in col && col.nullable === true;
}

function typeProblem(col: ColumnSpec, v: unknown): string | undefined {
  switch (col.kind) {
    case 'id':
    case 'tenant':
    case 'ref':
      return typeof v === 'string' ? undefined : `must be a uuid string, got ${JSON.stringify(v)}`;
    case 'date':
      return typeof v === 'string' ? undefined : `must be a "YYYY-MM-DD" string, got ${JSON.stringify(v)}`;
    case 'timestamp':
      return typeof v === 'string' ? undefined : `must be a "YYYY-MM-DDTHH:MM:SSZ" string, got ${JSON.stringify(v)}`;
    case 'text':
      return typeof v === 'string' ? undefined : `must be a string, got ${JSON.stringify(v)}`;
    case 'int':
      return typeof v === 'number' && Number.isSafeInteger(v)
        ? undefined
        : `must be a whole number, got ${JSON.stringify(v)}`;
    case 'numeric':
      return typeof v === 'number' && Number.isFinite(v) ? undefined : `must be a number, got ${JSON.stringify(v)}`;
    case 'bool':
      return typeof v === 'boolean' ? undefined : `must be true or false, got ${JSON.stringify(v)}`;
    case 'json':
      return typeof v === 'object' ? undefined : `must be a JSON object or array, got ${JSON.stringify(v)}`;
  }
}

/** Reports what `structureProblems` found (the record views carry the bad columns already). */
export class StructureRules {
  constructor(private readonly sink: FindingSink) {}

  report(r: RecordView, problems: readonly StructureProblem[]): void {
    for (const p of problems) this.sink.at('error', r, p.field, p.message);
  }
}
