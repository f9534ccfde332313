import type { Rng } from './random.ts';
import { round, type Json, type TableSet } from './records.ts';
import { day, moment, timestamp } from './time.ts';
import {
  FIRST_NAMES,
  INGREDIENTS,
  LAST_NAMES,
  asciiSlug,
  type IngredientDef,
  type Place,
  type ProductDef,
} from './names.ts';

/**
 * Master data of a tenant: the tenant itself, its users, locations, catalog
 * (ingredients, products) and stock; suppliers, recipes and equipment are in
 * supply.ts. Each builder adds records to a TableSet and returns what later
 * builders need to refer to them.
 */
export interface Ctx {
  readonly days: number;
  /** Offset of the oldest historical day (reference day = 0). */
  readonly firstDay: number;
}

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly domain: string;
}

export interface TenantSpec {
  readonly name: string;
  readonly parentId: string | null;
  readonly businessType: string;
  readonly tier: string;
  readonly city: string;
  readonly domain: string;
  readonly opening: string;
  readonly closing: string;
  readonly settings: { [key: string]: Json };
}

export function addTenant(set: TableSet, rng: Rng, ctx: Ctx, spec: TenantSpec): Tenant {
  const id = rng.uuid();
  const created = timestamp(moment(ctx.firstDay, 8));
  set.add('tenant.tenants', {
    id,
    tenant_id: id,
    parent_tenant_id: spec.parentId,
    name: spec.name,
    slug: asciiSlug(spec.name),
    business_type: spec.businessType,
    subscription_tier: spec.tier,
    is_demo: true,
    city: spec.city,
    country: 'ES',
    timezone: 'Europe/Madrid',
    created_at: created,
  });
  set.add('tenant.tenant_settings', {
    id: rng.uuid(),
    tenant_id: id,
    currency: 'EUR',
    language: 'es',
    opening_time: spec.opening,
    closing_time: spec.closing,
    settings: spec.settings,
    created_at: created,
  });
  return { id, name: spec.name, domain: spec.domain };
}

export interface User {
  readonly id: string;
  readonly role: string;
  readonly fullName: string;
}

/**
 * Users of a tenant; `people` gives fixed names, the rest are drawn from the
 * name lists. `emails` is shared across a profile so addresses never repeat.
 */
export function addUsers(
  set: TableSet,
  rng: Rng,
  ctx: Ctx,
  tenant: Tenant,
  roles: readonly string[],
  emails: Set<string>,
  people: readonly string[] = [],
): User[] {
  return roles.map((role, i) => {
    let fullName = people[i];
    let email = '';
    for (let attempt = 0; ; attempt++) {
      fullName ??= `${rng.pick(FIRST_NAMES)} ${rng.shuffle(LAST_NAMES).slice(0, 2).join(' ')}`;
      const [first = 'user', last = 'demo'] = fullName.split(' ');
      email = `${asciiSlug(first, '.')}.${asciiSlug(last, '.')}${attempt ? attempt + 1 : ''}@${tenant.domain}`;
      if (!emails.has(email)) break;
    }
    emails.add(email);
    const id = rng.uuid();
    const loggedIn =
      role === 'sales' && i % 2 === 1 ? null : timestamp(moment(-rng.int(0, 5), rng.int(6, 18), rng.int(0, 59)));
    set.add('auth.users', {
      id,
      tenant_id: tenant.id,
      email,
      full_name: fullName,
      role,
      is_active: true,
      created_at: timestamp(moment(ctx.firstDay, 9, 15 * i)),
      last_login_at: loggedIn,
    });
    return { id, role, fullName };
  });
}

/** The profile's main user (manifest.json `owner`): the tenant's owner, else its first user. */
export function ownerOf(users: readonly User[]): { user_id: string; role: string } {
  const owner = users.find((u) => u.role === 'owner') ?? users[0];
  if (!owner) throw new Error('a profile needs at least one user');
  return { user_id: owner.id, role: owner.role };
}

export interface Location {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly latitude: number;
  readonly longitude: number;
}

export function addLocation(set: TableSet, rng: Rng, tenantId: string, place: Place, type: string): Location {
  const loc: Location = {
    id: rng.uuid(),
    tenantId,
    name: place.name,
    latitude: round(place.latitude, 6),
    longitude: round(place.longitude, 6),
  };
  set.add('inventory.locations', {
    id: loc.id,
    tenant_id: tenantId,
    name: place.name,
    location_type: type,
    address: place.address,
    city: place.city,
    latitude: loc.latitude,
    longitude: loc.longitude,
  });
  return loc;
}

export interface Ingredient {
  readonly id: string;
  readonly sku: string;
  readonly def: IngredientDef;
}

export function addIngredients(set: TableSet, rng: Rng, tenantId: string): Ingredient[] {
  return INGREDIENTS.map((def, i) => {
    const id = rng.uuid();
    const sku = `ING-${String(i + 1).padStart(3, '0')}`;
    set.add('inventory.ingredients', {
      id,
      tenant_id: tenantId,
      sku,
      name: def.name,
      category: def.category,
      unit: def.unit,
      cost_per_unit: round(def.cost, 4),
      reorder_point: round(def.reorderPoint, 3),
      shelf_life_days: def.shelfLifeDays,
    });
    return { id, sku, def };
  });
}

export interface Product {
  readonly id: string;
  readonly sku: string;
  readonly name: string;
  readonly price: number;
  readonly def: ProductDef;
  readonly produced: boolean;
}

export function addProducts(set: TableSet, rng: Rng, tenantId: string, defs: readonly ProductDef[]): Product[] {
  return defs.map((def, i) => {
    const p: Product = {
      id: rng.uuid(),
      sku: `PRD-${String(i + 1).padStart(3, '0')}`,
      name: def.name,
      price: round(def.price, 2),
      def,
      produced: def.recipe !== null,
    };
    set.add('inventory.products', {
      id: p.id,
      tenant_id: tenantId,
      sku: p.sku,
      name: p.name,
      category: def.category,
      unit_price: p.price,
      shelf_life_days: def.shelfLifeDays,
    });
    return p;
  });
}

/** Stock on hand at the end of the reference day: each ingredient and/or product once per location. */
export function addStock(
  set: TableSet,
  rng: Rng,
  tenantId: string,
  location: Location,
  ingredients: readonly Ingredient[],
  products: ReadonlyArray<{ product: Product; quantity: number }>,
  lot: { next: number },
): void {
  const common = (expiresIn: number) => ({
    tenant_id: tenantId,
    location_id: location.id,
    batch_code: `LOT-${String(lot.next++).padStart(6, '0')}`,
    expiry_date: day(expiresIn),
    updated_at: timestamp(moment(0, 19, rng.int(0, 59))),
  });
  for (const ing of ingredients) {
    const quantity = round(ing.def.reorderPoint * rng.between(1.1, 2.6), ing.def.unit === 'ud' ? 0 : 3);
    set.add('inventory.stock', {
      id: rng.uuid(),
      ...common(Math.min(ing.def.shelfLifeDays, rng.int(Math.ceil(ing.def.shelfLifeDays / 3), ing.def.shelfLifeDays))),
      ingredient_id: ing.id,
      product_id: null,
      quantity,
      unit: ing.def.unit,
    });
  }
  for (const { product, quantity } of products) {
    set.add('inventory.stock', {
      id: rng.uuid(),
      ...common(product.def.shelfLifeDays),
      ingredient_id: null,
      product_id: product.id,
      quantity: round(Math.max(1, quantity), 3),
      unit: 'ud',
    });
  }
}
