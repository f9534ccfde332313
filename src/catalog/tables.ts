import type { ServiceName } from './services.ts';

/**
 * What each column of a seeded table holds, as far as loading cares:
 * - `id`: the row's own uuid, replaced by a new one per session;
 * - `tenant`: a tenant uuid, replaced by the session's tenant for that base id;
 * - `ref`: a uuid naming a row of `entity` (`service.table`), rewritten through the ID maps;
 * - `date` / `timestamp`: moved by whole days so the profile's reference day becomes the session's day;
 * - `text` with an `identity`: an email, slug or external code, given a per-session value
 *   (src/load/identities.ts) so that no two sessions share one; `unique` when the platform keeps
 *   it unique across tenants (a unique index in its database; the validator refuses two equal
 *   ones in a profile); `maxLength`, the longest value the column takes;
 * - the rest is copied as it is.
 */
export type ScalarKind = 'text' | 'int' | 'numeric' | 'bool' | 'json';
/** What an identity column holds: `email` (under DEMO_EMAIL_DOMAIN), `slug` or `code`. */
export type IdentityKind = 'email' | 'slug' | 'code';
export interface TextColumnSpec {
  readonly kind: 'text';
  readonly nullable?: boolean;
  readonly identity?: IdentityKind;
  readonly unique?: boolean;
  readonly maxLength?: number;
}
export type ColumnSpec =
  | { readonly kind: 'id' }
  | { readonly kind: 'tenant'; readonly nullable?: boolean }
  | { readonly kind: 'ref'; readonly entity: EntityName; readonly nullable?: boolean }
  | { readonly kind: 'date' | 'timestamp'; readonly nullable?: boolean }
  | { readonly kind: Exclude<ScalarKind, 'text'>; readonly nullable?: boolean }
  | TextColumnSpec;

/**
 * The tiers a tenant may have (tenant.tenants.subscription_tier): a session's main
 * tenant gets the one its request names (POST's `subscription_tier`).
 */
export const SUBSCRIPTION_TIERS = ['starter', 'professional', 'enterprise'] as const;
export type SubscriptionTier = (typeof SUBSCRIPTION_TIERS)[number];
export function isSubscriptionTier(v: unknown): v is SubscriptionTier {
  return typeof v === 'string' && (SUBSCRIPTION_TIERS as readonly string[]).includes(v);
}

export type EntityName = `${ServiceName}.${string}`;

export interface TableSpec {
  readonly service: ServiceName;
  readonly name: string;
  /** Columns in COPY order; every seeded table has `id` and `tenant_id`. */
  readonly columns: Readonly<Record<string, ColumnSpec>>;
}

const id = { kind: 'id' } as const;
const tenant = { kind: 'tenant' } as const;
const text = { kind: 'text' } as const;
const textNull = { kind: 'text', nullable: true } as const;
const int = { kind: 'int' } as const;
const num = { kind: 'numeric' } as const;
const numNull = { kind: 'numeric', nullable: true } as const;
const bool = { kind: 'bool' } as const;
const date = { kind: 'date' } as const;
const dateNull = { kind: 'date', nullable: true } as const;
const ts = { kind: 'timestamp' } as const;
const tsNull = { kind: 'timestamp', nullable: true } as const;
const ref = (entity: EntityName) => ({ kind: 'ref', entity }) as const;
/** Emails unique across tenants (a login); other emails are rewritten all the same, so none reaches a real mailbox. */
const loginEmail = { kind: 'text', identity: 'email', unique: true } as const;
const contactEmail = { kind: 'text', identity: 'email' } as const;
/** A DNS label: a tenant's slug may become its subdomain. */
const slug = { kind: 'text', identity: 'slug', unique: true, maxLength: 63 } as const;
const code = { kind: 'text', identity: 'code', unique: true } as const;
const refNull = (entity: EntityName) => ({ kind: 'ref', entity, nullable: true }) as const;

/** Tables per service, in load order (a table comes after the tables it references). */
export const TABLES: Readonly<Record<ServiceName, readonly TableSpec[]>> = {
  tenant: [
    {
      service: 'tenant',
      name: 'tenants',
      columns: {
        id: { kind: 'tenant' },
        tenant_id: tenant,
        parent_tenant_id: { kind: 'tenant', nullable: true },
        name: text,
        slug,
        business_type: text,
        subscription_tier: text,
        is_demo: bool,
        city: text,
        country: text,
        timezone: text,
        created_at: ts,
      },
    },
    {
      service: 'tenant',
      name: 'tenant_settings',
      columns: {
        id,
        tenant_id: tenant,
        currency: text,
        language: text,
        opening_time: text,
        closing_time: text,
        settings: { kind: 'json' },
        created_at: ts,
      },
    },
  ],
  auth: [
    {
      service: 'auth',
      name: 'users',
      columns: {
        id,
        tenant_id: tenant,
        email: loginEmail,
        full_name: text,
        role: text,
        is_active: bool,
        created_at: ts,
        last_login_at: tsNull,
      },
    },
  ],
  inventory: [
    {
      service: 'inventory',
      name: 'locations',
      columns: {
        id,
        tenant_id: tenant,
        name: text,
        location_type: text,
        address: text,
        city: text,
        latitude: num,
        longitude: num,
      },
    },
    {
      service: 'inventory',
      name: 'ingredients',
      columns: {
        id,
        tenant_id: tenant,
        sku: text,
        name: text,
        category: text,
        unit: text,
        cost_per_unit: num,
        reorder_point: num,
        shelf_life_days: int,
      },
    },
    {
      service: 'inventory',
      name: 'products',
      columns: {
        id,
        tenant_id: tenant,
        sku: text,
        name: text,
        category: text,
        unit_price: num,
        shelf_life_days: int,
      },
    },
    {
      service: 'inventory',
      name: 'stock',
      columns: {
        id,
        tenant_id: tenant,
        location_id: ref('inventory.locations'),
        ingredient_id: refNull('inventory.ingredients'),
        product_id: refNull('inventory.products'),
        quantity: num,
        unit: text,
        batch_code: text,
        expiry_date: dateNull,
        updated_at: ts,
      },
    },
  ],
  suppliers: [
    {
      service: 'suppliers',
      name: 'suppliers',
      columns: {
        id,
        tenant_id: tenant,
        name: text,
        contact_email: contactEmail,
        phone: text,
        city: text,
        lead_time_days: int,
        rating: num,
      },
    },
    {
      service: 'suppliers',
      name: 'supplier_price_lists',
      columns: {
        id,
        tenant_id: tenant,
        supplier_id: ref('suppliers.suppliers'),
        // Suppliers load before inventory, so their price lists name ingredients by SKU.
        ingredient_sku: text,
        item_name: text,
        unit: text,
        unit_price: num,
        min_order_quantity: num,
        valid_from: date,
      },
    },
  ],
  recipes: [
    {
      service: 'recipes',
      name: 'recipes',
      columns: {
        id,
        tenant_id: tenant,
        product_id: ref('inventory.products'),
        name: text,
        version: int,
        yield_quantity: num,
        yield_unit: text,
        prep_time_minutes: int,
        bake_time_minutes: int,
        instructions: text,
      },
    },
    {
      service: 'recipes',
      name: 'recipe_ingredients',
      columns: {
        id,
        tenant_id: tenant,
        recipe_id: ref('recipes.recipes'),
        ingredient_id: ref('inventory.ingredients'),
        quantity: num,
        unit: text,
      },
    },
  ],
  production: [
    {
      service: 'production',
      name: 'equipment',
      columns: {
        id,
        tenant_id: tenant,
        location_id: ref('inventory.locations'),
        name: text,
        equipment_type: text,
        capacity_per_hour: num,
        status: text,
        installed_on: date,
      },
    },
    {
      service: 'production',
      name: 'production_batches',
      columns: {
        id,
        tenant_id: tenant,
        location_id: ref('inventory.locations'),
        product_id: ref('inventory.products'),
        recipe_id: ref('recipes.recipes'),
        equipment_id: ref('production.equipment'),
        batch_number: text,
        status: text,
        planned_quantity: num,
        actual_quantity: numNull,
        planned_start: ts,
        planned_end: ts,
        actual_start: tsNull,
        actual_end: tsNull,
        yield_percentage: numNull,
      },
    },
  ],
  procurement: [
    {
      service: 'procurement',
      name: 'purchase_orders',
      columns: {
        id,
        tenant_id: tenant,
        supplier_id: ref('suppliers.suppliers'),
        location_id: ref('inventory.locations'),
        created_by: ref('auth.users'),
        po_number: text,
        status: text,
        order_date: date,
        expected_delivery_date: date,
        received_date: dateNull,
        total_amount: num,
        notes: textNull,
      },
    },
    {
      service: 'procurement',
      name: 'purchase_order_items',
      columns: {
        id,
        tenant_id: tenant,
        purchase_order_id: ref('procurement.purchase_orders'),
        ingredient_id: ref('inventory.ingredients'),
        quantity: num,
        unit: text,
        unit_price: num,
        line_total: num,
      },
    },
  ],
  orders: [
    {
      service: 'orders',
      name: 'customers',
      columns: {
        id,
        tenant_id: tenant,
        name: text,
        email: contactEmail,
        phone: text,
        customer_type: text,
        city: text,
      },
    },
    {
      service: 'orders',
      name: 'customer_orders',
      columns: {
        id,
        tenant_id: tenant,
        customer_id: ref('orders.customers'),
        location_id: ref('inventory.locations'),
        order_number: text,
        status: text,
        order_date: date,
        delivery_date: date,
        total_amount: num,
      },
    },
    {
      service: 'orders',
      name: 'customer_order_items',
      columns: {
        id,
        tenant_id: tenant,
        order_id: ref('orders.customer_orders'),
        product_id: ref('inventory.products'),
        quantity: num,
        unit_price: num,
        line_total: num,
      },
    },
    {
      service: 'orders',
      name: 'delivery_routes',
      columns: {
        id,
        tenant_id: tenant,
        origin_location_id: ref('inventory.locations'),
        // Handed to drivers and carriers outside the tenant: unique on the platform.
        route_code: code,
        route_date: date,
        vehicle: text,
        driver_name: text,
        total_distance_km: num,
        status: text,
      },
    },
    {
      service: 'orders',
      name: 'route_stops',
      columns: {
        id,
        tenant_id: tenant,
        route_id: ref('orders.delivery_routes'),
        location_id: ref('inventory.locations'),
        outlet_tenant_id: tenant,
        stop_sequence: int,
        planned_arrival: ts,
        distance_from_previous_km: num,
      },
    },
    {
      service: 'orders',
      name: 'shipments',
      columns: {
        id,
        tenant_id: tenant,
        route_id: ref('orders.delivery_routes'),
        stop_id: ref('orders.route_stops'),
        product_id: ref('inventory.products'),
        quantity: num,
        shipped_at: ts,
        status: text,
      },
    },
  ],
  sales: [
    {
      service: 'sales',
      name: 'sales_daily',
      columns: {
        id,
        tenant_id: tenant,
        location_id: ref('inventory.locations'),
        product_id: ref('inventory.products'),
        sale_date: date,
        quantity_sold: int,
        revenue: num,
        waste_quantity: int,
        channel: text,
      },
    },
  ],
  orchestrator: [
    {
      service: 'orchestrator',
      name: 'orchestration_runs',
      columns: {
        id,
        tenant_id: tenant,
        run_type: text,
        status: text,
        started_at: ts,
        completed_at: tsNull,
        batches_planned: int,
        purchase_orders_created: int,
        summary: text,
      },
    },
    {
      service: 'orchestrator',
      name: 'orchestration_actions',
      columns: {
        id,
        tenant_id: tenant,
        run_id: ref('orchestrator.orchestration_runs'),
        action_type: text,
        production_batch_id: refNull('production.production_batches'),
        purchase_order_id: refNull('procurement.purchase_orders'),
        created_at: ts,
        details: { kind: 'json' },
      },
    },
  ],
  forecasting: [
    {
      service: 'forecasting',
      name: 'forecast_models',
      columns: {
        id,
        tenant_id: tenant,
        product_id: ref('inventory.products'),
        location_id: ref('inventory.locations'),
        algorithm: text,
        trained_at: ts,
        training_days: int,
        mape: num,
      },
    },
    {
      service: 'forecasting',
      name: 'forecasts',
      columns: {
        id,
        tenant_id: tenant,
        model_id: ref('forecasting.forecast_models'),
        product_id: ref('inventory.products'),
        location_id: ref('inventory.locations'),
        forecast_date: date,
        predicted_quantity: num,
        lower_bound: num,
        upper_bound: num,
      },
    },
  ],
};

export function tableSpec(service: ServiceName, name: string): TableSpec | undefined {
  return TABLES[service].find((t) => t.name === name);
}

export function entityOf(table: TableSpec): EntityName {
  return `${table.service}.${table.name}`;
}

export function splitEntity(entity: EntityName): { service: ServiceName; table: string } {
  const dot = entity.indexOf('.');
  return { service: entity.slice(0, dot) as ServiceName, table: entity.slice(dot + 1) };
}

const memo = <T>(fn: (s: ServiceName) => T): ((s: ServiceName) => T) => {
  const cache = new Map<ServiceName, T>();
  return (s) => {
    if (!cache.has(s)) cache.set(s, fn(s));
    return cache.get(s) as T;
  };
};

/** Entities of `service` that another service references: their ID maps are published to Redis. */
export const publishedEntities = memo((service: ServiceName): readonly EntityName[] => {
  const out = new Set<EntityName>();
  for (const tables of Object.values(TABLES)) {
    for (const table of tables) {
      if (table.service === service) continue;
      for (const col of Object.values(table.columns)) {
        if (col.kind === 'ref' && splitEntity(col.entity).service === service) out.add(col.entity);
      }
    }
  }
  return [...out].sort();
});

/** Entities of other services that `service` reads from Redis ID maps. */
export const consumedEntities = memo((service: ServiceName): readonly EntityName[] => {
  const out = new Set<EntityName>();
  for (const table of TABLES[service]) {
    for (const col of Object.values(table.columns)) {
      if (col.kind === 'ref' && splitEntity(col.entity).service !== service) out.add(col.entity);
    }
  }
  return [...out].sort();
});
