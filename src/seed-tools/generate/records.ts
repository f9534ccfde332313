import { SERVICES } from '../../catalog/services.ts';
import { TABLES, entityOf, type EntityName, type TableSpec } from '../../catalog/tables.ts';

/** A JSON value as written to a seed file. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
/** One row of a seed file: exactly its table's columns, in catalog order. */
export type SeedRecord = { [column: string]: Json };

/** Every seeded table, in catalog load order (SERVICES, then TABLES[service]). */
export const CATALOG_TABLES: readonly TableSpec[] = SERVICES.flatMap((s) => TABLES[s]);
const BY_ENTITY = new Map<string, TableSpec>(CATALOG_TABLES.map((t) => [entityOf(t), t]));
const ORDER = new Map<string, number>(CATALOG_TABLES.map((t, i) => [entityOf(t), i]));

export function tableOf(entity: EntityName): TableSpec {
  const spec = BY_ENTITY.get(entity);
  if (!spec) throw new Error(`unknown seed table ${entity}`);
  return spec;
}

/** Position of `entity` in catalog load order. */
export function catalogIndex(entity: EntityName): number {
  const i = ORDER.get(entity);
  if (i === undefined) throw new Error(`unknown seed table ${entity}`);
  return i;
}

/**
 * A record of `entity` with its columns in COPY order. Throws when a column is
 * missing or unknown, when a non-nullable column is null, or when a number is
 * not finite (or not whole for an `int` column): generator bugs fail loudly.
 */
export function record(entity: EntityName, values: Readonly<Record<string, Json | undefined>>): SeedRecord {
  const spec = tableOf(entity);
  const out: SeedRecord = {};
  for (const [column, col] of Object.entries(spec.columns)) {
    const value = values[column];
    if (value === undefined) throw new Error(`${entity}: column ${column} is missing`);
    if (value === null) {
      if (!('nullable' in col && col.nullable)) throw new Error(`${entity}: column ${column} is not nullable`);
    } else if (col.kind === 'int' && !Number.isInteger(value)) {
      throw new Error(`${entity}: column ${column} must be a whole number, got ${String(value)}`);
    } else if (col.kind === 'numeric' && (typeof value !== 'number' || !Number.isFinite(value))) {
      throw new Error(`${entity}: column ${column} must be a finite number, got ${String(value)}`);
    }
    out[column] = value;
  }
  for (const column of Object.keys(values)) {
    if (!(column in spec.columns)) throw new Error(`${entity}: unknown column ${column}`);
  }
  return out;
}

/** `value` rounded half away from zero to `scale` decimals. */
export function round(value: number, scale: number): number {
  const f = 10 ** scale;
  const r = Math.round(Math.abs(value) * f + 1e-9) / f;
  return value < 0 ? -r : r;
}

const toUnits = (value: number, scale: number): bigint => BigInt(Math.round(value * 10 ** scale));

/**
 * round(quantity * unitPrice, 2), computed exactly in decimal (quantity with at
 * most 3 decimals, price with at most 4), half away from zero as PostgreSQL does.
 */
export function lineTotal(quantity: number, unitPrice: number): number {
  const units = toUnits(quantity, 3) * toUnits(unitPrice, 4); // in 1e-7
  const cents = (units + 50_000n) / 100_000n;
  return Number(cents) / 100;
}

/** True when quantity * unitPrice lies exactly halfway between two cents (rounding would depend on the method). */
export function isHalfCent(quantity: number, unitPrice: number): boolean {
  return (toUnits(quantity, 3) * toUnits(unitPrice, 4)) % 100_000n === 50_000n;
}

/** Sum of amounts with 2 decimals, exact (computed in cents). */
export function sumMoney(amounts: readonly number[]): number {
  return amounts.reduce((cents, a) => cents + Math.round(a * 100), 0) / 100;
}

/** The records of one or more tables, collected in memory (for the small tables of a file). */
export class TableSet {
  private readonly tables = new Map<EntityName, SeedRecord[]>();

  /** Builds a record of `entity` (see `record`), keeps it and returns it. */
  add(entity: EntityName, values: Readonly<Record<string, Json | undefined>>): SeedRecord {
    const rec = record(entity, values);
    const rows = this.tables.get(entity);
    if (rows) rows.push(rec);
    else this.tables.set(entity, [rec]);
    return rec;
  }

  rows(entity: EntityName): readonly SeedRecord[] {
    return this.tables.get(entity) ?? [];
  }

  /** Adds every table of `other` after this set's own rows. */
  merge(other: TableSet): this {
    for (const [entity, rows] of other.entries()) {
      const mine = this.tables.get(entity);
      if (mine) mine.push(...rows);
      else this.tables.set(entity, [...rows]);
    }
    return this;
  }

  entries(): Array<[EntityName, readonly SeedRecord[]]> {
    return [...this.tables.entries()];
  }
}
