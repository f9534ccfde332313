import type pg from 'pg';
import type { TableSpec } from '../../catalog/tables.ts';

/** Deletes every row of the given tenants from one seeded table (name from the catalog). */
export async function deleteTenantRows(client: pg.PoolClient, table: TableSpec, tenantIds: readonly string[]): Promise<number> {
  const res = await client.query(`DELETE FROM "${table.name}" WHERE tenant_id = ANY($1::uuid[])`, [tenantIds]);
  return res.rowCount ?? 0;
}

/** Counts the rows of the given tenants in one seeded table. */
export async function countTenantRows(db: pg.Pool | pg.PoolClient, table: TableSpec, tenantIds: readonly string[]): Promise<number> {
  const res = await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${table.name}" WHERE tenant_id = ANY($1::uuid[])`, [tenantIds]);
  return Number(res.rows[0]?.n ?? 0);
}
