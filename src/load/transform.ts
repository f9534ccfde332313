import type { ColumnSpec, EntityName, TableSpec } from '../catalog/tables.ts';
import { CopyEncodingError, encodeCopyValue } from './copy-encoding.ts';
import type { DateShifter } from '../seed/dates.ts';
import { SeedDataError } from '../seed/errors.ts';
import type { IdMapper } from '../seed/ids.ts';
import type { SeedRecord } from '../seed/profile.ts';
import { identityRewriter } from './identities.ts';

/**
 * The pure part of loading: a seed record becomes a COPY line with a new id,
 * its tenant and references rewritten, its dates moved and its identities (emails,
 * slugs, codes) made the session's. No I/O here.
 */
export interface TransformContext {
  readonly mapId: IdMapper;
  /** Base tenant id → the session's tenant id. */
  readonly tenants: ReadonlyMap<string, string>;
  readonly shift: DateShifter;
  /** New id of a row of `entity`, or undefined when no such row was loaded for the session. */
  resolve(entity: EntityName, baseId: string): string | undefined;
  /**
   * The session and email domain (DEMO_EMAIL_DOMAIN) the identity columns' values are
   * made from (src/load/identities.ts); without it they are copied as they are.
   */
  readonly identities?: { readonly sessionId: string; readonly emailDomain: string };
  /**
   * Values written over columns of given rows (entity → base id → column → value),
   * before they are converted: the requested tier of the session's main tenant.
   */
  readonly overrides?: ReadonlyMap<EntityName, ReadonlyMap<string, Readonly<Record<string, unknown>>>>;
}

/** Turns one record into one COPY text line. `collect`, when given, receives base id → new id. */
export type RecordEncoder = (record: SeedRecord, file: string, index: number) => string;

export function compileTable(spec: TableSpec, ctx: TransformContext, collect?: Map<string, string>): RecordEncoder {
  const names = Object.keys(spec.columns);
  const converters = names.map((name) => converter(spec.columns[name] as ColumnSpec, ctx));
  const entity: EntityName = `${spec.service}.${spec.name}`;
  const idIndex = names.indexOf('id');
  const width = names.length;
  const overrides = ctx.overrides?.get(entity);

  const encode: RecordEncoder = (record, file, index) => {
    let line = '';
    let newId: string | undefined;
    for (let i = 0; i < width; i++) {
      const name = names[i] as string;
      const raw = record[name];
      let out: string;
      try {
        if (raw === undefined && !(name in record)) throw new TypeError('missing');
        out = (converters[i] as (v: unknown) => string)(raw);
      } catch (err) {
        const msg =
          err instanceof TypeError && err.message === 'missing'
            ? `missing (every record of ${entity} has ${names.join(', ')})`
            : (err as Error).message;
        throw new SeedDataError([{ file, record: recordName(record, index), field: name, message: msg }]);
      }
      if (i === idIndex) newId = out;
      line += i === 0 ? out : '\t' + out;
    }
    // Every column was found above, so a record with more keys has one that is not a column.
    // Counted without Object.keys, which would allocate an array for every record.
    let keys = 0;
    for (const key in record) if (Object.hasOwn(record, key)) keys++;
    if (keys !== width) {
      const extra = Object.keys(record).filter((k) => !(k in spec.columns));
      throw new SeedDataError([
        { file, record: recordName(record, index), field: extra[0], message: `not a column of ${entity}` },
      ]);
    }
    if (collect && newId !== undefined) collect.set(record.id as string, newId);
    return line + '\n';
  };
  if (!overrides) return encode;
  return (record, file, index) => {
    const over = typeof record.id === 'string' ? overrides.get(record.id) : undefined;
    return encode(over ? overridden(record, over) : record, file, index);
  };
}

/** The record with `over`'s values in its columns (only those it has: a missing one stays missing). */
function overridden(record: SeedRecord, over: Readonly<Record<string, unknown>>): SeedRecord {
  const out: SeedRecord = { ...record };
  for (const [k, v] of Object.entries(over)) if (k in out) out[k] = v;
  return out;
}

/** How an error names a record: its id, else its position in the file. */
function recordName(record: SeedRecord, index: number): string {
  return typeof record.id === 'string' ? record.id : `#${index}`;
}

function converter(col: ColumnSpec, ctx: TransformContext): (v: unknown) => string {
  const nullable = 'nullable' in col && col.nullable === true;
  const wrap = (fn: (v: unknown) => string) => (v: unknown) => {
    if (v === null) {
      if (nullable) return '\\N';
      throw new Error('must not be null');
    }
    return fn(v);
  };
  switch (col.kind) {
    case 'id':
      return wrap((v) => ctx.mapId(asString(v)));
    case 'tenant':
      return wrap((v) => {
        const t = ctx.tenants.get(asString(v));
        if (t === undefined)
          throw new Error(`tenant ${String(v)} is not one of the profile's tenants (manifest.json "tenants")`);
        return t;
      });
    case 'ref':
      return wrap((v) => {
        const id = ctx.resolve(col.entity, asString(v));
        if (id === undefined) throw new Error(`references ${col.entity} ${String(v)}, which is not in the profile`);
        return id;
      });
    case 'date':
      return wrap((v) => ctx.shift.date(asString(v)));
    case 'timestamp':
      return wrap((v) => ctx.shift.timestamp(asString(v)));
    case 'int':
      return wrap((v) => {
        if (typeof v !== 'number' || !Number.isSafeInteger(v))
          throw new Error(`must be a whole number, got ${JSON.stringify(v)}`);
        return String(v);
      });
    case 'numeric':
      return wrap((v) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`must be a number, got ${JSON.stringify(v)}`);
        return String(v);
      });
    case 'bool':
      return wrap((v) => {
        if (typeof v !== 'boolean') throw new Error(`must be true or false, got ${JSON.stringify(v)}`);
        return v ? 't' : 'f';
      });
    case 'json':
      return wrap((v) => {
        if (typeof v !== 'object') throw new Error(`must be a JSON object or array, got ${JSON.stringify(v)}`);
        return encodeCopyValue(v as object);
      });
    case 'text': {
      const rewrite =
        col.identity && ctx.identities
          ? identityRewriter(col.identity, ctx.identities.sessionId, ctx.identities.emailDomain, col.maxLength)
          : undefined;
      return wrap((v) => {
        if (typeof v !== 'string') throw new Error(`must be a string, got ${JSON.stringify(v)}`);
        try {
          return encodeCopyValue(rewrite ? rewrite(v) : v);
        } catch (err) {
          if (err instanceof CopyEncodingError) throw new Error(err.message);
          throw err;
        }
      });
    }
  }
}

function asString(v: unknown): string {
  if (typeof v !== 'string') throw new Error(`must be a string, got ${JSON.stringify(v)}`);
  return v;
}
