import type { Product } from './master.ts';
import type { Recipe } from './supply.ts';
import { weekday } from './time.ts';

/**
 * The demand model every part of a profile agrees on: sales are drawn around
 * it, production and purchasing plan from it, forecasts predict it.
 */
const WEEKDAY_FACTOR = [0, 0.9, 0.95, 0.95, 1.0, 1.08, 0]; // Sunday and Saturday use the product's lift

export function weekdayFactor(offset: number, weekendLift: number): number {
  const wd = weekday(offset);
  if (wd === 6) return weekendLift;
  if (wd === 0) return 0.92 * weekendLift;
  return WEEKDAY_FACTOR[wd] as number;
}

/** Expected units of `product` sold over the counter of one shop (size `shopFactor`) on day `offset`. */
export function expectedDemand(product: Product, shopFactor: number, offset: number): number {
  return product.def.baseDemand * shopFactor * weekdayFactor(offset, product.def.weekendLift);
}

/** Units to bake of `product` on day `offset` for shops of the given sizes: demand plus 5 %, whole units. */
export function plannedProduction(product: Product, shopFactors: readonly number[], offset: number): number {
  const units = shopFactors.reduce((sum, f) => sum + expectedDemand(product, f, offset), 0);
  return Math.max(1, Math.round(units * 1.05));
}

/** Average daily use of each ingredient (by id) when baking the expected demand of `shopFactors`. */
export function ingredientUsePerDay(
  recipes: readonly Recipe[],
  ingredientIds: ReadonlyMap<string, string>,
  shopFactors: readonly number[],
): Map<string, number> {
  const use = new Map<string, number>();
  for (const recipe of recipes) {
    let weekly = 0;
    for (let d = 0; d < 7; d++) weekly += plannedProduction(recipe.product, shopFactors, d);
    const batchesPerDay = weekly / 7 / recipe.def.yieldQuantity;
    for (const [key, quantity] of recipe.def.ingredients) {
      const id = ingredientIds.get(key);
      if (id) use.set(id, (use.get(id) ?? 0) + batchesPerDay * quantity);
    }
  }
  return use;
}
