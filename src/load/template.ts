import type { EntityName, TableSpec } from '../catalog/tables.ts';
import { parseDay, TIMESTAMP_RE } from '../seed/dates.ts';
import { mapIdAt } from '../seed/ids.ts';
import { UUID_RE } from '../shared/uuid.ts';
import { compileTable, type TransformContext } from './transform.ts';
import type { LoadedProfile, SeedRecord } from '../seed/profile.ts';

/**
 * A table's COPY text as the profile holds it, made once per profile, with the place
 * of every value a session changes (ids, tenants, references, dates). A session's text
 * is a copy of these bytes with those values written over: no record is read, checked
 * or escaped again, and no string is built but the new ids the ID maps keep.
 *
 * The bytes come from the record encoder itself (compileTable), run once with the
 * identity for every rewrite, so the text outside the slots is the encoder's own.
 * A slot's new value must fill it exactly: a uuid or tenant id is 36 characters, a
 * moved day 10 (YYYY-MM-DD). Tables with identity columns (emails, slugs, codes: the
 * catalog's `identity`), all of a few rows, have no template: they are encoded record
 * by record (hasIdentities). Anything else (a reference missing from the ID maps, a
 * day moved past year 9999) makes fillTemplate give up, and the caller encodes the
 * table record by record, which reports the problem as it always has.
 */
export interface TableTemplate {
  readonly rows: number;
  /** The COPY text with the profile's own values in the slots. */
  readonly bytes: Buffer;
  /** Per slot: what it holds (SLOT_*), where it starts and how many bytes it has. */
  readonly kinds: Uint8Array;
  readonly offsets: Int32Array;
  readonly widths: Uint8Array;
  /** Per slot: the profile's value (the id, tenant or referenced id; the day of a date or timestamp). */
  readonly bases: readonly string[];
  /** Per slot: the entity a reference names (undefined for other slots). */
  readonly entities: readonly (EntityName | undefined)[];
  /** Per row: the index of its first slot (rows + 1 entries), and its `id` column's slot (-1: none). */
  readonly rowStarts: Int32Array;
  readonly idSlots: Int32Array;
}

const SLOT_ID = 1;
const SLOT_TENANT = 2;
const SLOT_REF = 3;
const SLOT_DAY = 4;

/**
 * The template of a table whose records are in memory, or undefined when a record
 * would not encode (the caller's record-by-record path then reports it, naming it).
 */
export function compileTemplate(
  spec: TableSpec,
  records: readonly SeedRecord[],
  tenantIds: readonly string[],
): TableTemplate | undefined {
  const names = Object.keys(spec.columns);
  const idColumn = names.indexOf('id');
  const idKind = spec.columns.id?.kind;
  if (idColumn < 0 || (idKind !== 'id' && idKind !== 'tenant')) return undefined;
  // A table with identities (a few rows: users, tenants, routes) is encoded record by record.
  if (hasIdentities(spec)) return undefined;
  // The encoder with every rewrite the identity, checking what the real one checks.
  const checked = (ok: boolean, v: string) => {
    if (!ok) throw new Error(`unexpected ${v}`);
    return v;
  };
  const day = (v: string) => {
    parseDay(v); // throws for what is not a calendar day
    return v;
  };
  const identity: TransformContext = {
    mapId: Object.assign((v: string) => checked(UUID_RE.test(v), v), { key: new Uint8Array(32) }),
    tenants: new Map(tenantIds.map((t) => [t, t])),
    shift: { days: 0, date: day, timestamp: (v) => checked(TIMESTAMP_RE.test(v) && day(v.slice(0, 10)) !== '', v) },
    resolve: (_e, v) => v,
  };
  const encode = compileTable(spec, identity);
  const kinds: number[] = [];
  const offsets: number[] = [];
  const widths: number[] = [];
  const bases: string[] = [];
  const entities: (EntityName | undefined)[] = [];
  const rowStarts = new Int32Array(records.length + 1);
  const idSlots = new Int32Array(records.length).fill(-1);
  const chunks: Buffer[] = [];
  let offset = 0;
  try {
    for (let r = 0; r < records.length; r++) {
      const record = records[r] as SeedRecord;
      const line = Buffer.from(encode(record, '', r));
      rowStarts[r] = kinds.length;
      // A raw tab only ever separates fields (the encoder escapes the ones in values).
      let start = 0;
      for (let c = 0; c < names.length; c++) {
        let end = line.indexOf(9, start);
        if (end < 0) end = line.length - 1;
        const col = spec.columns[names[c] as string]!;
        const raw = record[names[c] as string];
        if (
          raw !== null &&
          (col.kind === 'id' ||
            col.kind === 'tenant' ||
            col.kind === 'ref' ||
            col.kind === 'date' ||
            col.kind === 'timestamp')
        ) {
          const value = raw as string;
          if (col.kind === 'id' || col.kind === 'tenant' || col.kind === 'ref') {
            if (end - start !== value.length) return undefined;
            if (c === idColumn) idSlots[r] = kinds.length;
            kinds.push(col.kind === 'id' ? SLOT_ID : col.kind === 'tenant' ? SLOT_TENANT : SLOT_REF);
            widths.push(value.length);
            bases.push(value);
          } else {
            kinds.push(SLOT_DAY);
            widths.push(10);
            bases.push(value.slice(0, 10));
          }
          offsets.push(offset + start);
          entities.push(col.kind === 'ref' ? col.entity : undefined);
        }
        start = end + 1;
      }
      chunks.push(line);
      offset += line.length;
    }
  } catch {
    return undefined;
  }
  rowStarts[records.length] = kinds.length;
  return {
    rows: records.length,
    bytes: Buffer.concat(chunks, offset),
    kinds: Uint8Array.from(kinds),
    offsets: Int32Array.from(offsets),
    widths: Uint8Array.from(widths),
    bases,
    entities,
    rowStarts,
    idSlots,
  };
}

/**
 * The session's COPY text of a table: the template's bytes with every slot rewritten
 * through `ctx`, the new id of each row given to `collect` (base id → new id) as
 * compileTable's encoder gives it. Undefined when a new value does not fit its slot:
 * the caller then encodes the records one by one.
 */
export function fillTemplate(
  t: TableTemplate,
  ctx: TransformContext,
  collect?: Map<string, string>,
): Buffer | undefined {
  try {
    return fill(t, ctx, collect);
  } catch {
    return undefined; // a day the shifter refuses, say: the record encoder says which
  }
}

function fill(t: TableTemplate, ctx: TransformContext, collect?: Map<string, string>): Buffer | undefined {
  const out = Buffer.allocUnsafe(t.bytes.length);
  t.bytes.copy(out);
  const key = ctx.mapId.key;
  const { kinds, offsets, widths, bases, entities, rowStarts, idSlots } = t;
  for (let r = 0; r < t.rows; r++) {
    const last = rowStarts[r + 1] as number;
    for (let s = rowStarts[r] as number; s < last; s++) {
      const at = offsets[s] as number;
      const kind = kinds[s] as number;
      if (kind === SLOT_ID) {
        mapIdAt(key, out, at); // the profile's uuid is there
        continue;
      }
      const base = bases[s] as string;
      const value =
        kind === SLOT_TENANT
          ? ctx.tenants.get(base)
          : kind === SLOT_REF
            ? ctx.resolve(entities[s] as EntityName, base)
            : ctx.shift.date(base);
      // Only ASCII of the slot's exact width fits: one byte per character.
      const width = widths[s] as number;
      if (value === undefined || value.length !== width) return undefined;
      for (let i = 0; i < width; i++) {
        const code = value.charCodeAt(i);
        if (code > 127) return undefined;
        out[at + i] = code;
      }
    }
    const id = idSlots[r] as number;
    if (collect && id >= 0) {
      const at = offsets[id] as number;
      collect.set(bases[id] as string, out.toString('latin1', at, at + (widths[id] as number)));
    }
  }
  return out;
}

/** Whether a table has a column of per-session values (emails, slugs, codes), which the template has no slot for. */
export function hasIdentities(spec: TableSpec): boolean {
  return Object.values(spec.columns).some((c) => c.kind === 'text' && c.identity !== undefined);
}

const TEMPLATES = new WeakMap<LoadedProfile, Map<EntityName, TableTemplate | null>>();

/**
 * The template of a table of a profile, made on first use and kept as long as the
 * profile is (a profile read anew gets new ones); undefined when it has none.
 */
export function profileTemplate(
  profile: LoadedProfile,
  spec: TableSpec,
  records: () => readonly SeedRecord[],
): TableTemplate | undefined {
  let templates = TEMPLATES.get(profile);
  if (!templates) TEMPLATES.set(profile, (templates = new Map()));
  const entity: EntityName = `${spec.service}.${spec.name}`;
  let t = templates.get(entity);
  if (t === undefined) {
    t =
      compileTemplate(
        spec,
        records(),
        profile.manifest.tenants.map((x) => x.id),
      ) ?? null;
    templates.set(entity, t);
  }
  return t ?? undefined;
}
