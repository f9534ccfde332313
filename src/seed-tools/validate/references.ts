import { UUID_V4_RE } from '../../shared/uuid.ts';
import { describe, type IdRules } from './ids.ts';
import { columnsOf, fmt, str, value, type RecordView, type RuleContext, type RuleFamily } from './report.ts';

/**
 * Referential integrity: what the loader rewrites through the session's ID maps
 * must exist in the profile, or a service job fails half-way through a session.
 *
 * - Every `ref` value is the id of a record of the named entity, in any file and
 *   any service of the profile (not of another entity that happens to share it).
 * - Every `tenant` value is one of the manifest's tenants; every manifest tenant
 *   has its `tenant.tenants` record; a tenants record has `tenant_id = id`
 *   (the table's CHECK) and `parent_tenant_id` naming the manifest's parent for a
 *   child tenant, null for the main or parent tenant.
 * - Ids other services use without a ref column exist too: a supplier price
 *   list's `ingredient_sku` is the SKU of an ingredient (suppliers load before
 *   inventory, so the link is by SKU), and a route stop's `outlet_tenant_id` is the
 *   tenant that owns the stop's location.
 *
 * Values that are not UUIDv4 are reported by the id rules and skipped here.
 */
export class ReferenceRules implements RuleFamily {
  private readonly tenantIds: ReadonlySet<string>;
  private readonly roleOf: ReadonlyMap<string, string>;
  private readonly parent: string | undefined;
  private readonly tenantRows = new Set<string>();
  private readonly skus = new Set<string>();
  private readonly locationTenant = new Map<string, string>();

  constructor(
    private readonly ctx: RuleContext,
    private readonly ids: IdRules,
  ) {
    this.tenantIds = new Set(ctx.tenants.map((t) => t.id));
    this.roleOf = new Map(ctx.tenants.map((t) => [t.id, t.role]));
    this.parent = ctx.tenants.find((t) => t.role === 'parent')?.id;
  }

  visit(r: RecordView): void {
    const sink = this.ctx.sink;
    switch (r.entity) {
      case 'tenant.tenants': {
        const id = str(r, 'id');
        if (id === undefined) break;
        this.tenantRows.add(id);
        const tenantId = str(r, 'tenant_id');
        if (tenantId !== undefined && tenantId !== id)
          sink.at(
            'error',
            r,
            'tenant_id',
            `must equal the tenant's id ${id} (tenants.tenant_id = tenants.id), got ${tenantId}`,
          );
        const parentId = value(r, 'parent_tenant_id');
        const role = this.roleOf.get(id);
        if (role === 'child') {
          if (parentId !== this.parent)
            sink.at(
              'error',
              r,
              'parent_tenant_id',
              `a child tenant's parent must be the manifest's parent tenant ${this.parent ?? '(none)'}, got ${fmt(parentId)}`,
            );
        } else if (role !== undefined && parentId !== null && parentId !== undefined) {
          sink.at(
            'error',
            r,
            'parent_tenant_id',
            `the ${role} tenant has no parent (must be null), got ${fmt(parentId)}`,
          );
        }
        break;
      }
      case 'inventory.ingredients': {
        const sku = str(r, 'sku');
        if (sku !== undefined) this.skus.add(sku);
        break;
      }
      case 'inventory.locations': {
        const id = str(r, 'id');
        const tenant = str(r, 'tenant_id');
        if (id !== undefined && tenant !== undefined) this.locationTenant.set(id, tenant);
        break;
      }
    }
  }

  resolve(r: RecordView): void {
    const sink = this.ctx.sink;
    for (const col of columnsOf(r.spec).uuids) {
      if (col.kind === 'id') continue;
      const name = col.name;
      const v = str(r, name);
      if (v === undefined) continue;
      if (col.kind === 'tenant') {
        if (!this.tenantIds.has(v) && UUID_V4_RE.test(v))
          sink.at('error', r, name, `tenant ${v} is not one of the profile's tenants (manifest.json "tenants")`);
        continue;
      }
      const entry = this.ids.entries.get(v);
      if (entry?.entity === col.entity || !UUID_V4_RE.test(v)) continue;
      if (!entry) sink.at('error', r, name, `references ${col.entity} ${v}, which is not in the profile`);
      else sink.at('error', r, name, `references ${col.entity} ${v}, but that id is ${describe(this.ctx, entry)}`);
    }
    if (r.entity === 'suppliers.supplier_price_lists') {
      const sku = str(r, 'ingredient_sku');
      if (sku !== undefined && !this.skus.has(sku))
        sink.at('error', r, 'ingredient_sku', `no inventory.ingredients record has sku ${JSON.stringify(sku)}`);
    }
    if (r.entity === 'orders.route_stops') {
      const location = str(r, 'location_id');
      const outlet = str(r, 'outlet_tenant_id');
      const owner = location === undefined ? undefined : this.locationTenant.get(location);
      if (owner !== undefined && outlet !== undefined && owner !== outlet) {
        sink.at(
          'error',
          r,
          'outlet_tenant_id',
          `must be the tenant of the stop's location ${location} (${owner}), got ${outlet}`,
        );
      }
    }
  }

  finish(): void {
    this.ctx.tenants.forEach((t, i) => {
      if (!this.tenantRows.has(t.id))
        this.ctx.sink.manifest(
          'error',
          `tenants.${i}.id`,
          `tenant ${t.id} has no tenant.tenants record in the profile`,
          t.id,
        );
    });
  }
}
