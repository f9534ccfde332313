import type pg from 'pg';
import type { TableSpec } from '../../catalog/tables.ts';

/**
 * Deletes every row of the given tenants (the session record's) from one seeded table
 * (name from the catalog), but only of those tenants this database's own load marker
 * of the session records (demo_seed.session_loads.tenant_ids): a tenant no load of
 * the session here recorded, a customer's, matches nothing, whatever `tenantIds` says.
 */
export async function deleteTenantRows(
  client: pg.PoolClient,
  table: TableSpec,
  sessionId: string,
  tenantIds: readonly string[],
): Promise<number> {
  const res = await client.query(
    `DELETE FROM "${table.name}"
     WHERE tenant_id = ANY($1::uuid[])
       AND tenant_id = ANY(ARRAY(SELECT unnest(tenant_ids) FROM demo_seed.session_loads WHERE session_id = $2))`,
    [tenantIds, sessionId],
  );
  return res.rowCount ?? 0;
}

/** Counts the rows of the given tenants in one seeded table. */
export async function countTenantRows(
  db: pg.Pool | pg.PoolClient,
  table: TableSpec,
  tenantIds: readonly string[],
): Promise<number> {
  const res = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM "${table.name}" WHERE tenant_id = ANY($1::uuid[])`,
    [tenantIds],
  );
  return Number(res.rows[0]?.n ?? 0);
}
