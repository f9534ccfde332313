import type { EntityName, IdentityKind, TableSpec } from '../../catalog/tables.ts';
import type { Manifest } from '../../seed/profile.ts';
import { codeStem, emailStem, isEmailAddress, slugStem } from '../../shared/identity-text.ts';
import { placeOf, str, type Place, type RecordView, type RuleContext, type RuleFamily } from './report.ts';

/**
 * Identities (the catalog's `identity` columns: emails, slugs, codes), which every
 * session loads with values of its own (src/load/identities.ts):
 *
 * - a marked email is a valid address (a dot-atom local part and a host name, within
 *   RFC 5321's lengths); a slug is lower-case letters, digits and single dashes (a
 *   warning: the loader makes one of anything) within the column's `maxLength`;
 * - in a column the platform keeps unique across tenants (`unique`: users' emails,
 *   tenant slugs, route codes) no two records of the profile have the same value, nor
 *   two values that a session turns into the same one (the same stem: `Maria@a.es` and
 *   `maria@b.es` both become `maria.<tag>@…`), since a session loads all of them under
 *   the unique index;
 * - the manifest's `owner` (the user a demo token is for) is a user of the main tenant
 *   with the role it says; a profile without one is a warning (no demo token can be made
 *   for its sessions).
 */
const SLUG_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

interface Marked {
  readonly name: string;
  readonly kind: IdentityKind;
  readonly unique: boolean;
  readonly maxLength?: number;
}

const MARKED = new WeakMap<TableSpec, readonly Marked[]>();

/** The identity columns of a table. */
export function markedColumns(spec: TableSpec): readonly Marked[] {
  let m = MARKED.get(spec);
  if (!m) {
    m = Object.entries(spec.columns).flatMap(([name, c]) =>
      c.kind === 'text' && c.identity
        ? [
            {
              name,
              kind: c.identity,
              unique: c.unique === true,
              ...(c.maxLength !== undefined && { maxLength: c.maxLength }),
            },
          ]
        : [],
    );
    MARKED.set(spec, m);
  }
  return m;
}

function stemOf(col: Marked, v: string): string {
  switch (col.kind) {
    case 'email':
      return emailStem(v);
    case 'slug':
      return slugStem(v, col.maxLength);
    case 'code':
      return codeStem(v, col.maxLength);
  }
}

export class IdentityRules implements RuleFamily {
  /** Per unique column (`service.table.column`): value → where it was, and stem → the value and where. */
  private readonly values = new Map<string, Map<string, Place>>();
  private readonly stems = new Map<string, Map<string, { value: string; place: Place }>>();
  /** auth.users rows: id → tenant and role (a few per profile). */
  private readonly users = new Map<string, { tenant: unknown; role: unknown }>();

  constructor(
    private readonly ctx: RuleContext,
    private readonly owner: Manifest['owner'],
  ) {}

  visit(r: RecordView): void {
    if (r.entity === ('auth.users' as EntityName) && typeof r.rec.id === 'string')
      this.users.set(r.rec.id.toLowerCase(), { tenant: r.rec.tenant_id, role: r.rec.role });
    const marked = markedColumns(r.spec);
    for (let i = 0; i < marked.length; i++) this.check(r, marked[i] as Marked);
  }

  private check(r: RecordView, col: Marked): void {
    const v = str(r, col.name);
    if (v === undefined) return;
    const sink = this.ctx.sink;
    if (col.kind === 'email' && !isEmailAddress(v)) {
      sink.at(
        'error',
        r,
        col.name,
        `must be an email address (local@host.domain, at most 254 characters), got ${JSON.stringify(v)}`,
      );
      return;
    }
    if (col.kind === 'slug' && !SLUG_RE.test(v))
      sink.at(
        'warning',
        r,
        col.name,
        `should be a slug (lower-case letters, digits and single dashes), got ${JSON.stringify(v)}`,
      );
    if (col.maxLength !== undefined && v.length > col.maxLength)
      sink.at('error', r, col.name, `must be at most ${col.maxLength} characters, got ${v.length}`);
    if (!col.unique) return;
    const key = `${r.entity}.${col.name}`;
    const values = this.values.get(key) ?? new Map<string, Place>();
    this.values.set(key, values);
    const earlier = values.get(v);
    if (earlier) {
      sink.at(
        'error',
        r,
        col.name,
        `${JSON.stringify(v)} is also the ${col.name} of ${earlier.label} (${this.file(earlier)}): unique across tenants, so every session would load it twice`,
      );
      return;
    }
    const place = placeOf(r);
    values.set(v, place);
    const stems = this.stems.get(key) ?? new Map<string, { value: string; place: Place }>();
    this.stems.set(key, stems);
    const stem = stemOf(col, v);
    const same = stems.get(stem);
    if (same) {
      sink.at(
        'error',
        r,
        col.name,
        `${JSON.stringify(v)} and the ${col.name} ${JSON.stringify(same.value)} of ${same.place.label} (${this.file(same.place)}) get the same value in a session (${JSON.stringify(stem)} with the session's tag): unique across tenants`,
      );
      return;
    }
    stems.set(stem, { value: v, place });
  }

  private file(p: Place): string {
    return this.ctx.files[p.file]?.path ?? '?';
  }

  finish(): void {
    const sink = this.ctx.sink;
    const owner = this.owner;
    if (!owner) {
      sink.manifest(
        'warning',
        'owner',
        'missing: the profile names no main user, so no demo token can be issued for its sessions',
      );
      return;
    }
    const main = this.ctx.tenants[0];
    const user = this.users.get(owner.user_id.toLowerCase());
    if (!user) {
      sink.manifest('error', 'owner.user_id', `${owner.user_id} is not a record of auth.users`, owner.user_id);
      return;
    }
    if (main && user.tenant !== main.id)
      sink.manifest(
        'error',
        'owner.user_id',
        `${owner.user_id} is a user of tenant ${String(user.tenant)}, not of the main tenant ${main.id}`,
        owner.user_id,
      );
    if (user.role !== owner.role)
      sink.manifest(
        'error',
        'owner.role',
        `says ${JSON.stringify(owner.role)}, but the user's role is ${JSON.stringify(user.role)}`,
        owner.user_id,
      );
  }
}
