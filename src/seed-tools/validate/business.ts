import { exactCents, formatCents, productCents } from './decimal.ts';
import { num, placeOf, str, value, type Place, type RecordView, type RuleContext, type RuleFamily } from './report.ts';

/**
 * Business rules the data keeps (seed-data/README.md, "Business rules").
 *
 * Bounds per column (`BOUNDS`): quantities and prices that define what is bought,
 * made or sold are > 0; amounts where zero is a real state are >= 0 (stock on hand,
 * a day without sales, waste, a zero forecast, distances between stops at the same
 * spot, an ingredient that costs nothing, a batch that yielded nothing, same-day
 * lead times, runs that planned nothing). Coordinates and ratings stay in range.
 *
 * Money is compared exactly, in integer cents: `line_total = round(quantity ×
 * unit_price, 2)` (half away from zero) for purchase and customer order lines, and
 * an order's `total_amount` is the sum of its lines' `line_total`.
 *
 * Catalog: recipes yield more than zero of something and use more than zero of each
 * ingredient; every product that is produced (named by a production batch) has a
 * recipe, and a batch's recipe is a recipe of the batch's product; a product that
 * has no recipe and is never produced is a warning (a catalog entry nothing
 * makes), unless its category is `resale` (bought in and sold as it is).
 *
 * Other rules: forecasts keep `lower_bound <= predicted_quantity <= upper_bound`;
 * a stock row holds exactly one of `ingredient_id` / `product_id`; stop numbers
 * are unique per route (the table's unique index; users' emails, unique across
 * tenants, are identities.ts's); a shipment's stop is a stop of the shipment's route; an orchestration
 * run's `batches_planned` / `purchase_orders_created` count its actions that name
 * a batch / a purchase order; and, where the profile has child tenants
 * (enterprise), every outlet (a location of a child tenant) is a stop of a route
 * on every day that has routes.
 */
interface Bound {
  readonly min: number;
  readonly strict: boolean;
  readonly max?: number;
}
const POSITIVE: Bound = { min: 0, strict: true };
const NON_NEGATIVE: Bound = { min: 0, strict: false };

export const BOUNDS: Readonly<Record<string, Readonly<Record<string, Bound>>>> = {
  'inventory.locations': {
    latitude: { min: -90, strict: false, max: 90 },
    longitude: { min: -180, strict: false, max: 180 },
  },
  'inventory.ingredients': { cost_per_unit: NON_NEGATIVE, reorder_point: NON_NEGATIVE, shelf_life_days: POSITIVE },
  'inventory.products': { unit_price: POSITIVE, shelf_life_days: POSITIVE },
  'inventory.stock': { quantity: NON_NEGATIVE },
  'suppliers.suppliers': { lead_time_days: NON_NEGATIVE, rating: { min: 0, strict: false, max: 5 } },
  'suppliers.supplier_price_lists': { unit_price: POSITIVE, min_order_quantity: POSITIVE },
  'recipes.recipes': {
    version: { min: 1, strict: false },
    yield_quantity: POSITIVE,
    prep_time_minutes: NON_NEGATIVE,
    bake_time_minutes: NON_NEGATIVE,
  },
  'recipes.recipe_ingredients': { quantity: POSITIVE },
  'production.equipment': { capacity_per_hour: POSITIVE },
  'production.production_batches': {
    planned_quantity: POSITIVE,
    actual_quantity: NON_NEGATIVE,
    yield_percentage: NON_NEGATIVE,
  },
  'procurement.purchase_orders': { total_amount: NON_NEGATIVE },
  'procurement.purchase_order_items': { quantity: POSITIVE, unit_price: POSITIVE, line_total: NON_NEGATIVE },
  'orders.customer_orders': { total_amount: NON_NEGATIVE },
  'orders.customer_order_items': { quantity: POSITIVE, unit_price: POSITIVE, line_total: NON_NEGATIVE },
  'orders.delivery_routes': { total_distance_km: NON_NEGATIVE },
  'orders.route_stops': { stop_sequence: { min: 1, strict: false }, distance_from_previous_km: NON_NEGATIVE },
  'orders.shipments': { quantity: POSITIVE },
  'sales.sales_daily': { quantity_sold: NON_NEGATIVE, revenue: NON_NEGATIVE, waste_quantity: NON_NEGATIVE },
  'orchestrator.orchestration_runs': { batches_planned: NON_NEGATIVE, purchase_orders_created: NON_NEGATIVE },
  'forecasting.forecast_models': { training_days: POSITIVE, mape: NON_NEGATIVE },
  'forecasting.forecasts': { predicted_quantity: NON_NEGATIVE, lower_bound: NON_NEGATIVE, upper_bound: NON_NEGATIVE },
};

/** Orders and their lines, in cents. */
const ORDERS = {
  'procurement.purchase_orders': { lines: 'procurement.purchase_order_items', fk: 'purchase_order_id' },
  'orders.customer_orders': { lines: 'orders.customer_order_items', fk: 'order_id' },
} as const;
const LINE_TABLES: ReadonlyMap<string, string> = new Map(
  Object.values(ORDERS).map((o) => [o.lines as string, o.fk as string]),
);

export class BusinessRules implements RuleFamily {
  private readonly orders = new Map<string, { place: Place; cents: bigint | undefined; lines: string }>();
  private readonly sums = new Map<string, { cents: bigint; lines: number; broken: boolean }>();
  private readonly products = new Map<string, { place: Place; category: string | undefined }>();
  private readonly recipeProduct = new Map<string, string>();
  private readonly withRecipe = new Set<string>();
  private readonly produced = new Set<string>();
  private readonly producedWithoutRecipe = new Map<string, { place: Place; batches: number }>();
  private readonly childTenants: ReadonlySet<string>;
  private readonly outlets = new Map<string, { place: Place; name: string }>();
  private readonly routeDate = new Map<string, string>();
  private readonly stopRoute = new Map<string, string>();
  private readonly routesAt = new Map<string, Set<string>>(); // location -> routes it is a stop of
  private readonly unique = new Map<string, Place>();
  private readonly runs = new Map<string, { place: Place; batches: number | undefined; orders: number | undefined }>();
  private readonly actions = new Map<string, { batches: number; orders: number }>();

  constructor(private readonly ctx: RuleContext) {
    this.childTenants = new Set(ctx.tenants.filter((t) => t.role === 'child').map((t) => t.id));
  }

  visit(r: RecordView): void {
    const sink = this.ctx.sink;
    for (const [column, bound] of Object.entries(BOUNDS[r.entity] ?? {})) {
      const v = num(r, column);
      if (v === undefined) continue;
      if (bound.strict ? !(v > bound.min) : !(v >= bound.min))
        sink.at('error', r, column, `must be ${bound.strict ? '>' : '>='} ${bound.min}, got ${v}`);
      else if (bound.max !== undefined && v > bound.max)
        sink.at('error', r, column, `must be <= ${bound.max}, got ${v}`);
    }
    const id = str(r, 'id');
    const fk = LINE_TABLES.get(r.entity);
    if (fk !== undefined) this.line(r, fk);
    switch (r.entity) {
      case 'procurement.purchase_orders':
      case 'orders.customer_orders': {
        const total = num(r, 'total_amount');
        if (id === undefined || total === undefined) break;
        const cents = exactCents(total);
        if (cents === undefined) sink.at('error', r, 'total_amount', `${total} is not a whole number of cents`);
        this.orders.set(id, { place: placeOf(r), cents, lines: ORDERS[r.entity].lines });
        break;
      }
      case 'inventory.products':
        if (id !== undefined) this.products.set(id, { place: placeOf(r), category: str(r, 'category') });
        break;
      case 'recipes.recipes': {
        const product = str(r, 'product_id');
        if (id !== undefined && product !== undefined) this.recipeProduct.set(id, product);
        if (product !== undefined) this.withRecipe.add(product);
        break;
      }
      case 'production.production_batches': {
        const product = str(r, 'product_id');
        if (product !== undefined) this.produced.add(product);
        break;
      }
      case 'inventory.locations': {
        const tenant = str(r, 'tenant_id');
        if (id !== undefined && tenant !== undefined && this.childTenants.has(tenant))
          this.outlets.set(id, { place: placeOf(r), name: str(r, 'name') ?? id });
        break;
      }
      case 'inventory.stock':
        if (!r.bad.has('ingredient_id') && !r.bad.has('product_id')) {
          const both = r.rec.ingredient_id !== null && r.rec.product_id !== null;
          if (both || (r.rec.ingredient_id === null && r.rec.product_id === null)) {
            sink.at(
              'error',
              r,
              'ingredient_id',
              `a stock row holds exactly one of ingredient_id / product_id, this one ${both ? 'both' : 'neither'}`,
            );
          }
        }
        break;
      case 'forecasting.forecasts': {
        const [lo, p, hi] = [num(r, 'lower_bound'), num(r, 'predicted_quantity'), num(r, 'upper_bound')];
        if (lo !== undefined && p !== undefined && hi !== undefined && !(lo <= p && p <= hi)) {
          sink.at(
            'error',
            r,
            'predicted_quantity',
            `must lie between lower_bound ${lo} and upper_bound ${hi}, got ${p}`,
          );
        }
        break;
      }
      case 'orders.delivery_routes': {
        const day = str(r, 'route_date');
        if (id !== undefined && day !== undefined) this.routeDate.set(id, day);
        break;
      }
      case 'orders.route_stops': {
        const [route, location] = [str(r, 'route_id'), str(r, 'location_id')];
        if (id !== undefined && route !== undefined) this.stopRoute.set(id, route);
        if (route !== undefined && location !== undefined)
          getOr(this.routesAt, location, () => new Set<string>()).add(route);
        const seq = value(r, 'stop_sequence');
        if (typeof seq === 'number')
          this.once(
            r,
            ['stop', route, String(seq)],
            'stop_sequence',
            `route ${route ?? '?'} has another stop number ${seq}`,
          );
        break;
      }
      case 'orchestrator.orchestration_runs':
        if (id !== undefined)
          this.runs.set(id, {
            place: placeOf(r),
            batches: num(r, 'batches_planned'),
            orders: num(r, 'purchase_orders_created'),
          });
        break;
      case 'orchestrator.orchestration_actions': {
        const run = str(r, 'run_id');
        if (run === undefined) break;
        const a = getOr(this.actions, run, () => ({ batches: 0, orders: 0 }));
        if (r.rec.production_batch_id !== null && value(r, 'production_batch_id') !== undefined) a.batches++;
        if (r.rec.purchase_order_id !== null && value(r, 'purchase_order_id') !== undefined) a.orders++;
        break;
      }
    }
  }

  /** An order line: its total is round(quantity × unit_price, 2); it adds to its order's sum. */
  private line(r: RecordView, fk: string): void {
    const [q, p, t, order] = [num(r, 'quantity'), num(r, 'unit_price'), num(r, 'line_total'), str(r, fk)];
    const sum =
      order === undefined ? undefined : getOr(this.sums, order, () => ({ cents: 0n, lines: 0, broken: false }));
    const cents = t === undefined ? undefined : exactCents(t);
    if (sum) {
      sum.lines++;
      if (cents === undefined) sum.broken = true;
      else sum.cents += cents;
    }
    if (t !== undefined && cents === undefined) {
      this.ctx.sink.at('error', r, 'line_total', `${t} is not a whole number of cents`);
    } else if (q !== undefined && p !== undefined && cents !== undefined) {
      const expected = productCents(q, p);
      if (expected !== cents)
        this.ctx.sink.at(
          'error',
          r,
          'line_total',
          `${t} is not round(quantity × unit_price, 2) = round(${q} × ${p}, 2) = ${formatCents(expected)}`,
        );
    }
  }

  /** A key (kind first) that must be unique within the profile: reports its second use. */
  private once(r: RecordView, parts: readonly (string | undefined)[], field: string, message: string): void {
    if (parts.some((p) => p === undefined)) return;
    const key = parts.join('\0');
    const first = this.unique.get(key);
    if (first)
      this.ctx.sink.at(
        'error',
        r,
        field,
        `${message} (${this.ctx.files[first.file]?.path ?? '?'} record ${first.label})`,
      );
    else this.unique.set(key, placeOf(r));
  }

  resolve(r: RecordView): void {
    if (r.entity === 'production.production_batches') {
      const [product, recipe] = [str(r, 'product_id'), str(r, 'recipe_id')];
      if (product === undefined) return;
      if (!this.withRecipe.has(product)) {
        const seen = this.producedWithoutRecipe.get(product);
        if (seen) seen.batches++;
        else this.producedWithoutRecipe.set(product, { place: placeOf(r), batches: 1 });
        return;
      }
      const of = recipe === undefined ? undefined : this.recipeProduct.get(recipe);
      if (of !== undefined && of !== product)
        this.ctx.sink.at(
          'error',
          r,
          'recipe_id',
          `recipe ${recipe} is a recipe of product ${of}, not of this batch's product ${product}`,
        );
    } else if (r.entity === 'orders.shipments') {
      const [route, stop] = [str(r, 'route_id'), str(r, 'stop_id')];
      const of = stop === undefined ? undefined : this.stopRoute.get(stop);
      if (route !== undefined && of !== undefined && of !== route)
        this.ctx.sink.at(
          'error',
          r,
          'stop_id',
          `stop ${stop} is a stop of route ${of}, not of this shipment's route ${route}`,
        );
    }
  }

  finish(): void {
    const sink = this.ctx.sink;
    for (const [id, o] of this.orders) {
      const sum = this.sums.get(id) ?? { cents: 0n, lines: 0, broken: false };
      if (o.cents === undefined || sum.broken || o.cents === sum.cents) continue;
      sink.atPlace(
        'error',
        o.place,
        'total_amount',
        `${formatCents(o.cents)} is not the sum of its ${sum.lines} ${o.lines} line_total values, ${formatCents(sum.cents)}`,
      );
    }
    for (const [product, b] of this.producedWithoutRecipe) {
      sink.atPlace(
        'error',
        b.place,
        'product_id',
        `product ${product} is produced (${b.batches} production_batches) but has no recipe (recipes.recipes)`,
      );
    }
    for (const [id, p] of this.products) {
      if (!this.withRecipe.has(id) && !this.produced.has(id) && p.category !== 'resale') {
        sink.atPlace(
          'warning',
          p.place,
          'id',
          `product has no recipe and is never produced (only category "resale" products are bought in and sold as they are)`,
        );
      }
    }
    const routeDays = new Set(this.routeDate.values());
    for (const [location, o] of this.outlets) {
      const days = new Set(
        [...(this.routesAt.get(location) ?? [])].flatMap((route) => this.routeDate.get(route) ?? []),
      );
      const missing = [...routeDays].filter((d) => !days.has(d)).sort();
      if (days.size === 0)
        sink.atPlace('error', o.place, 'id', `outlet "${o.name}" is a stop on no delivery route (orders.route_stops)`);
      else if (missing.length > 0) {
        sink.atPlace(
          'error',
          o.place,
          'id',
          `outlet "${o.name}" is not a stop on ${missing.length} of ${routeDays.size} route days: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`,
        );
      }
    }
    for (const [id, run] of this.runs) {
      const a = this.actions.get(id) ?? { batches: 0, orders: 0 };
      if (run.batches !== undefined && run.batches !== a.batches)
        sink.atPlace(
          'error',
          run.place,
          'batches_planned',
          `${run.batches}, but ${a.batches} of its actions name a production batch`,
        );
      if (run.orders !== undefined && run.orders !== a.orders)
        sink.atPlace(
          'error',
          run.place,
          'purchase_orders_created',
          `${run.orders}, but ${a.orders} of its actions name a purchase order`,
        );
    }
  }
}

function getOr<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}
