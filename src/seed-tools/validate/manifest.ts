import { isServiceName, SERVICES } from '../../catalog/services.ts';
import { TABLES, tableSpec } from '../../catalog/tables.ts';
import { parseDay } from '../../seed/dates.ts';
import { UUID_V4_RE } from '../../shared/uuid.ts';
import type { Manifest } from '../../seed/profile.ts';
import type { FindingSink } from './report.ts';

/**
 * Manifest agreement. The file list is checked by the reader (every listed file
 * exists, is listed once and stays in the folder; an unlisted .json/.ndjson file
 * in the folder is a warning). Here:
 *
 * - the manifest itself: `reference_date` is a calendar day; tenants have unique
 *   UUIDv4 ids and a valid shape (one `main` tenant alone, or one `parent` and at
 *   least one `child`, the main or parent listed first); `profile` names its
 *   folder (a warning: sessions are recorded under the folder's name);
 * - `counts` equals the records found, per service and table, both ways: a count
 *   for a table without records (or an unknown table) and a table with records but
 *   no count are errors, as is any count that differs.
 *
 * Returns false when the manifest is too broken to check the data against.
 */
export function checkManifest(manifest: Manifest, folder: string, sink: FindingSink): boolean {
  let usable = true;
  try {
    parseDay(manifest.reference_date);
  } catch {
    sink.manifest('error', 'reference_date', `not a calendar date: ${manifest.reference_date}`);
    usable = false;
  }
  if (manifest.profile !== folder) {
    sink.manifest(
      'warning',
      'profile',
      `"${manifest.profile}" is not the name of its folder "${folder}" (sessions are recorded under the folder's name)`,
    );
  }
  const seen = new Set<string>();
  manifest.tenants.forEach((t, i) => {
    if (!UUID_V4_RE.test(t.id)) sink.manifest('error', `tenants.${i}.id`, `tenant id ${t.id} is not a UUIDv4`, t.id);
    if (seen.has(t.id)) sink.manifest('error', `tenants.${i}.id`, `tenant ${t.id} is listed twice`, t.id);
    seen.add(t.id);
  });
  const roles = manifest.tenants.map((t) => t.role);
  const count = (role: string) => roles.filter((r) => r === role).length;
  const single = roles.length === 1 && roles[0] === 'main';
  const family = roles[0] === 'parent' && count('parent') === 1 && count('main') === 0 && count('child') >= 1;
  if (!single && !family) {
    sink.manifest(
      'error',
      'tenants',
      `roles must be one "main" tenant alone, or one "parent" first and at least one "child"; got ${roles.join(', ')}`,
    );
  }
  return usable;
}

export function checkCounts(manifest: Manifest, found: ReadonlyMap<string, number>, sink: FindingSink): void {
  for (const [service, tables] of Object.entries(manifest.counts)) {
    for (const [table, expected] of Object.entries(tables)) {
      const field = `counts.${service}.${table}`;
      if (!isServiceName(service) || !tableSpec(service, table)) {
        sink.manifest('error', field, `not a table of the catalog`);
        continue;
      }
      const n = found.get(`${service}.${table}`) ?? 0;
      if (n === expected) continue;
      sink.manifest(
        'error',
        field,
        n === 0
          ? `says ${expected} records, but the profile has none`
          : `says ${expected} records, but the profile has ${n}`,
      );
    }
  }
  for (const service of SERVICES) {
    for (const t of TABLES[service]) {
      const n = found.get(`${service}.${t.name}`) ?? 0;
      if (n > 0 && manifest.counts[service]?.[t.name] === undefined) {
        sink.manifest(
          'error',
          `counts.${service}.${t.name}`,
          `missing: the profile has ${n} records of ${service}.${t.name}`,
        );
      }
    }
  }
}
