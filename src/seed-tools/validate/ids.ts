import { SERVICES } from '../../catalog/services.ts';
import { TABLES, type EntityName } from '../../catalog/tables.ts';
import { keptPart } from '../../seed/ids.ts';
import { UUID_V4_RE } from '../../shared/uuid.ts';
import {
  columnsOf,
  fmt,
  placeOf,
  str,
  type FindingSink,
  type Place,
  type RecordView,
  type RuleContext,
  type RuleFamily,
} from './report.ts';

/**
 * Id format and uniqueness.
 *
 * - Every `id`, and every tenant and ref value, is a UUIDv4 (version nibble 4,
 *   variant 8-b): the session id mapping keeps those bits, so a v4 base id stays v4.
 *   The manifest's tenant ids too.
 * - Ids are unique in the whole profile, across tables, files and services, and
 *   more: they differ in the part a session's new id keeps (`keptPart`: the version
 *   digit and the last 16 hex digits; the first half becomes the session's prefix),
 *   or two rows would get the same key. Compared without case, as PostgreSQL
 *   compares uuids. A duplicate is reported where it occurs again, naming where it
 *   occurred first.
 *
 * Memory stays bounded for million-row sales files: only the ids of entities that
 * something can reference (`REFERENCEABLE`) are kept exactly, with where they are
 * (the reference rules need them anyway). Other ids (sales rows, order lines, ...)
 * go into a Bloom filter of at most 32 MiB; an id the filter may have seen becomes
 * a candidate, and only when there are candidates does `rescan` read the profile
 * again to find where each candidate really occurs. False positives cost a rescan,
 * never a wrong finding.
 */

/** Entities that a ref column names, plus the tenants. */
export const REFERENCEABLE: ReadonlySet<EntityName> = new Set<EntityName>([
  'tenant.tenants',
  ...SERVICES.flatMap((s) =>
    TABLES[s].flatMap((t) => Object.values(t.columns).flatMap((c) => (c.kind === 'ref' ? [c.entity] : []))),
  ),
]);

export interface IdEntry extends Place {
  readonly entity: EntityName;
  readonly pos: number;
  /** The id, lower-cased. */
  readonly id: string;
}

export class IdRules implements RuleFamily {
  /** Ids of referenceable records, exactly as written (references resolve by exact string, as the loader does). */
  readonly entries = new Map<string, IdEntry>();
  /** Kept parts of the ids of referenceable records, for uniqueness. */
  private readonly lower = new Map<string, IdEntry>();
  private readonly bloom: Bloom;
  readonly candidates = new Set<string>();
  /** Where each candidate first occurs, during `rescan`. */
  private readonly places = new Map<string, IdEntry>();
  /** Tenant and ref values seen to be well formed (they repeat a lot: few locations, many sales rows). */
  private readonly wellFormed = new Set<string>();

  constructor(
    private readonly ctx: RuleContext,
    expectedOtherIds: number,
  ) {
    this.bloom = new Bloom(expectedOtherIds);
  }

  get sink(): FindingSink {
    return this.ctx.sink;
  }

  visit(r: RecordView): void {
    for (const col of columnsOf(r.spec).uuids) {
      const v = str(r, col.name);
      if (v === undefined || (col.kind !== 'id' && this.wellFormed.has(v))) continue;
      if (UUID_V4_RE.test(v)) {
        if (col.kind !== 'id') {
          if (this.wellFormed.size > 100_000) this.wellFormed.clear();
          this.wellFormed.add(v);
        }
        continue;
      }
      const what = col.name === 'id' ? 'id' : col.kind === 'tenant' ? 'tenant id' : `reference to ${col.entity ?? '?'}`;
      this.sink.at(
        'error',
        r,
        col.name,
        `${what} ${fmt(v)} is not a UUIDv4 (xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx)`,
      );
    }
    const id = str(r, 'id');
    if (id === undefined) return;
    const key = keptPart(id);
    const referenceable = REFERENCEABLE.has(r.entity);
    const first = this.lower.get(key);
    if (first) {
      if (!this.candidates.has(key)) this.duplicate(r, id, first);
    } else if (this.bloom.has(key)) {
      this.candidates.add(key);
    }
    if (referenceable) {
      if (!first) {
        const entry: IdEntry = { ...placeOf(r), entity: r.entity, pos: r.pos, id: id.toLowerCase() };
        this.lower.set(key, entry);
        if (!this.entries.has(id)) this.entries.set(id, entry);
      }
    } else if (!first) {
      this.bloom.add(key);
    }
  }

  private duplicate(r: RecordView, id: string, first: IdEntry): void {
    const message =
      id.toLowerCase() === first.id
        ? `duplicate id: also the id of ${describe(this.ctx, first)}`
        : `id ends like ${first.id}, the id of ${describe(this.ctx, first)}: ids must differ in their last 16 hex digits (a session's new id keeps only those and the version digit)`;
    this.sink.at('error', r, 'id', message);
  }

  /** Needs a second look at the records whose ids are candidates (see the class comment). */
  get needsRescan(): boolean {
    return this.candidates.size > 0;
  }

  /** Second look: called with every record again (only when `needsRescan`). */
  rescan(r: RecordView): void {
    const id = str(r, 'id');
    if (id === undefined) return;
    const key = keptPart(id);
    if (!this.candidates.has(key)) return;
    const first = this.places.get(key);
    if (first) this.duplicate(r, id, first);
    else this.places.set(key, { ...placeOf(r), entity: r.entity, pos: r.pos, id: id.toLowerCase() });
  }
}

/** `a inventory.products record (#3 of "inventory.products" in 02-inventory.json)`, or `(line 12 of x.ndjson)`. */
export function describe(ctx: RuleContext, p: IdEntry): string {
  const file = ctx.files[p.file];
  const where =
    file?.kind === 'ndjson' ? `line ${p.pos} of ${file.path}` : `#${p.pos} of "${p.entity}" in ${file?.path ?? '?'}`;
  return `a ${p.entity} record (${where})`;
}

/** A Bloom filter over id strings: about 48 bits per expected id, 8 probes, at most 2^28 bits. */
class Bloom {
  private readonly bits: Uint32Array;
  private readonly mask: number;

  constructor(expected: number) {
    let size = 1 << 16;
    while (size < expected * 48 && size < 2 ** 28) size *= 2;
    this.bits = new Uint32Array(size / 32);
    this.mask = size - 1;
  }

  /** 8 probe positions from two FNV-style hashes of the key (double hashing). */
  private hashes(key: string): [number, number] {
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 15);
    }
    return [h1, h2 | 1];
  }

  add(key: string): void {
    const [h1, h2] = this.hashes(key);
    for (let i = 0; i < 8; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      this.bits[bit >>> 5] = (this.bits[bit >>> 5] as number) | (1 << (bit & 31));
    }
  }

  has(key: string): boolean {
    const [h1, h2] = this.hashes(key);
    for (let i = 0; i < 8; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      if ((((this.bits[bit >>> 5] as number) >>> (bit & 31)) & 1) === 0) return false;
    }
    return true;
  }
}
