import type { Rng } from './random.ts';
import { round, type TableSet } from './records.ts';
import { day } from './time.ts';
import type { RecipeDef, SupplierDef } from './names.ts';
import type { Ctx, Ingredient, Location, Product } from './master.ts';

/**
 * Master data of a producing tenant's supply side: suppliers with their price
 * lists, recipes, and production equipment.
 */
export interface Supplier {
  readonly id: string;
  readonly index: number;
  readonly def: SupplierDef;
}

export interface PriceEntry {
  readonly supplier: Supplier;
  readonly ingredient: Ingredient;
  readonly unitPrice: number;
}

/** Suppliers and their price lists: every ingredient from its own supplier, flours also quoted by the distributor. */
export function addSuppliers(
  set: TableSet,
  rng: Rng,
  ctx: Ctx,
  tenantId: string,
  defs: readonly SupplierDef[],
  ingredients: readonly Ingredient[],
): { suppliers: Supplier[]; primary: Map<string, PriceEntry> } {
  const suppliers = defs.map((def, index) => {
    const id = rng.uuid();
    set.add('suppliers.suppliers', {
      id,
      tenant_id: tenantId,
      name: def.name,
      contact_email: def.email,
      phone: def.phone,
      city: def.city,
      lead_time_days: def.leadTimeDays,
      rating: round(def.rating, 2),
    });
    return { id, index, def };
  });
  const primary = new Map<string, PriceEntry>();
  const quote = (supplier: Supplier, ingredient: Ingredient, markup: number): PriceEntry => {
    const unitPrice = round(ingredient.def.cost * markup * rng.between(0.96, 1.04), 4);
    set.add('suppliers.supplier_price_lists', {
      id: rng.uuid(),
      tenant_id: tenantId,
      supplier_id: supplier.id,
      ingredient_sku: ingredient.sku,
      item_name: ingredient.def.name,
      unit: ingredient.def.unit,
      unit_price: unitPrice,
      min_order_quantity: round(ingredient.def.pack * rng.int(1, 4), 3),
      valid_from: day(ctx.firstDay + rng.int(0, 6)),
    });
    return { supplier, ingredient, unitPrice };
  };
  for (const ing of ingredients) {
    const own = suppliers[ing.def.supplier % suppliers.length] as Supplier;
    primary.set(ing.id, quote(own, ing, 1));
    const distributor = suppliers[suppliers.length - 1] as Supplier;
    if (ing.def.category === 'flour' && distributor !== own) quote(distributor, ing, 1.09);
  }
  return { suppliers, primary };
}

export interface Recipe {
  readonly id: string;
  readonly product: Product;
  readonly def: RecipeDef;
}

/** One recipe per produced product, with its ingredient lines (quantities per batch of `yieldQuantity`). */
export function addRecipes(
  set: TableSet,
  rng: Rng,
  tenantId: string,
  products: readonly Product[],
  ingredients: readonly Ingredient[],
  opts: { version: number; prefix: string },
): Recipe[] {
  const byKey = new Map(ingredients.map((i) => [i.def.key, i]));
  return products.flatMap((product) => {
    const def = product.def.recipe;
    if (!def) return [];
    const id = rng.uuid();
    set.add('recipes.recipes', {
      id,
      tenant_id: tenantId,
      product_id: product.id,
      name: `${opts.prefix} ${product.name}`,
      version: opts.version,
      yield_quantity: round(def.yieldQuantity, 3),
      yield_unit: 'ud',
      prep_time_minutes: def.prepMinutes,
      bake_time_minutes: def.bakeMinutes,
      instructions: def.instructions,
    });
    for (const [key, quantity] of def.ingredients) {
      const ing = byKey.get(key);
      if (!ing) throw new Error(`recipe of ${product.name}: unknown ingredient ${key}`);
      set.add('recipes.recipe_ingredients', {
        id: rng.uuid(),
        tenant_id: tenantId,
        recipe_id: id,
        ingredient_id: ing.id,
        quantity: round(quantity, 4),
        unit: ing.def.unit,
      });
    }
    return [{ id, product, def }];
  });
}

export interface Equipment {
  readonly id: string;
  readonly type: string;
}

export interface EquipmentDef {
  readonly name: string;
  readonly type: string;
  readonly capacityPerHour: number;
  readonly status: string;
}

export function addEquipment(
  set: TableSet,
  rng: Rng,
  ctx: Ctx,
  tenantId: string,
  location: Location,
  defs: readonly EquipmentDef[],
): Equipment[] {
  return defs.map((def) => {
    const id = rng.uuid();
    set.add('production.equipment', {
      id,
      tenant_id: tenantId,
      location_id: location.id,
      name: def.name,
      equipment_type: def.type,
      capacity_per_hour: round(def.capacityPerHour, 2),
      status: def.status,
      installed_on: day(ctx.firstDay + rng.int(0, 3)),
    });
    return { id, type: def.type };
  });
}
