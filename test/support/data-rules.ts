import { SERVICES, type ServiceName } from '../../src/catalog/services.ts';
import { TABLES } from '../../src/catalog/tables.ts';
import type { Databases } from '../../src/db/pools.ts';

/**
 * The contract's data rules, checked directly in PostgreSQL with the catalog only
 * for table names: every other fact comes from information_schema and the rows.
 */
export type RowsByTable = Map<string, Record<string, unknown>[]>; // key `service.table`

/** Every row of the given tenants in every seeded table of the 11 databases. */
export async function sessionRows(dbs: Databases, tenantIds: readonly string[]): Promise<RowsByTable> {
  const out: RowsByTable = new Map();
  await Promise.all(
    SERVICES.map(async (service) => {
      for (const table of TABLES[service]) {
        const { rows } = await dbs
          .pool(service)
          .query(`SELECT * FROM "${table.name}" WHERE tenant_id = ANY($1::uuid[])`, [tenantIds]);
        out.set(`${service}.${table.name}`, rows);
      }
    }),
  );
  return out;
}

/** uuid-typed columns of every table, from information_schema. */
export async function uuidColumns(dbs: Databases): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  await Promise.all(
    SERVICES.map(async (service) => {
      const { rows } = await dbs
        .pool(service)
        .query<{ table_name: string; column_name: string }>(
          `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND data_type = 'uuid'`,
        );
      for (const r of rows) {
        const key = `${service}.${r.table_name}`;
        out.set(key, [...(out.get(key) ?? []), r.column_name]);
      }
    }),
  );
  return out;
}

export function countsOf(rows: RowsByTable): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [key, list] of rows) {
    if (list.length === 0) continue;
    const [service, table] = key.split('.') as [ServiceName, string];
    (out[service] ??= {})[table] = list.length;
  }
  return out;
}

/** Rows of any table, anywhere, that carry one of these tenant ids (for "nothing left"). */
export async function leftoverCount(dbs: Databases, tenantIds: readonly string[]): Promise<number> {
  const rows = await sessionRows(dbs, tenantIds);
  return [...rows.values()].reduce((n, l) => n + l.length, 0);
}

/** All string values found anywhere in a seed-data profile's records, by walking the JSON. */
export function allUuidsIn(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) out.add(value.toLowerCase());
  } else if (Array.isArray(value)) {
    for (const v of value) allUuidsIn(v, out);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) allUuidsIn(v, out);
  }
  return out;
}
