import { Rng } from './random.ts';
import { TableSet, round } from './records.ts';
import { historyOffsets } from './time.ts';
import {
  CUSTOMERS_BARCELONA,
  RESALE,
  SUPPLIERS_BARCELONA,
  outletPlace,
  producedProducts,
  type CustomerDef,
} from './names.ts';
import {
  addIngredients,
  addLocation,
  addProducts,
  addStock,
  addTenant,
  addUsers,
  ownerOf,
  type Ctx,
} from './master.ts';
import { addEquipment, addRecipes, addSuppliers, type Recipe } from './supply.ts';
import { expectedDemand, ingredientUsePerDay, plannedProduction } from './demand.ts';
import { addBatches, addOrchestration, addPurchaseOrders } from './operations.ts';
import { addCustomerOrders, addCustomers, addForecasts, salesRowCount, salesRows } from './commerce.ts';
import { addRoutes, type Outlet } from './distribution.ts';
import {
  FORECAST_HORIZON_DAYS,
  FUTURE_PRODUCTION_DAYS,
  NDJSON_THRESHOLD,
  ROUTE_HISTORY_DAYS,
  jsonFile,
  type ProfilePlan,
} from './profile.ts';
import type { FilePlan } from './writer.ts';
import type { ResolvedArgs } from './options.ts';

/**
 * The enterprise profile: a central production site ("obrador") near
 * Barcelona that bakes and buys for the chain, and retail outlets (child
 * tenants) that sell, supplied by daily delivery routes.
 */
const CHAIN = 'Forn del Barri';
const DOMAIN = 'forndelbarri.cat';
const WAREHOUSE = {
  name: `${CHAIN} - Obrador central`,
  address: 'Carrer de la Botànica 23, Polígon Gran Via Sud',
  city: "L'Hospitalet de Llobregat",
  latitude: 41.352614,
  longitude: 2.119032,
};
const PARENT_PEOPLE = ['Núria Vila Ferrer', 'Jordi Serra Costa', 'Montse Roca Pujol'];
const BUSINESSES = CUSTOMERS_BARCELONA.filter((c) => c.type === 'business');
const PEOPLE = CUSTOMERS_BARCELONA.filter((c) => c.type === 'individual');
const EQUIPMENT = [
  { name: 'Horno de túnel Mecatherm 12 m', type: 'oven', capacityPerHour: 1200, status: 'operational' },
  { name: 'Horno rotativo Salva Kwik-Co', type: 'oven', capacityPerHour: 480, status: 'operational' },
  { name: 'Línea de laminado automática Rondo', type: 'sheeter', capacityPerHour: 900, status: 'operational' },
  { name: 'Amasadora espiral de artesa extraíble 200 kg', type: 'mixer', capacityPerHour: 400, status: 'operational' },
  { name: 'Abatidor de temperatura Irinox', type: 'blast_chiller', capacityPerHour: 600, status: 'maintenance' },
];

export function planEnterprise(args: ResolvedArgs): ProfilePlan {
  const outletCount = args.outlets ?? 3;
  const root = Rng.root(args.seed).fork(args.profile);
  const ctx: Ctx = { days: args.days, firstDay: -(args.days - 1) };
  const history = historyOffsets(args.days);
  const future = Array.from({ length: FUTURE_PRODUCTION_DAYS }, (_, i) => i + 1);
  const emails = new Set<string>();

  // --- the central production site (parent tenant)
  const tenantSet = new TableSet();
  const parent = addTenant(tenantSet, root.fork('tenant'), ctx, {
    name: `${CHAIN} - Obrador Central`,
    parentId: null,
    businessType: 'central_production',
    tier: 'enterprise',
    city: 'Barcelona',
    domain: DOMAIN,
    opening: '02:00',
    closing: '14:00',
    settings: {
      tax_rate: 0.1,
      low_stock_alerts: true,
      production_planning_horizon_days: FUTURE_PRODUCTION_DAYS,
      forecast_horizon_days: FORECAST_HORIZON_DAYS,
      distribution: { departure_time: '05:30', max_stops_per_route: 6 },
    },
  });
  const userSet = new TableSet();
  const users = addUsers(
    userSet,
    root.fork('users'),
    ctx,
    parent,
    ['owner', 'production_manager', 'procurement'],
    emails,
    PARENT_PEOPLE,
  );

  const inventory = new TableSet();
  const rInv = root.fork('inventory');
  const warehouse = addLocation(inventory, rInv, parent.id, WAREHOUSE, 'warehouse');
  const ingredients = addIngredients(inventory, rInv, parent.id);
  const produced = Math.max(1, args.products - 1);
  const defs = [...producedProducts(produced), ...RESALE.slice(0, args.products - produced)];
  const products = addProducts(inventory, rInv, parent.id, defs);

  // --- the outlets (child tenants): planned first, so the parent's plans can use their sizes
  const rOutlets = root.fork('outlets');
  const outletPlans = Array.from({ length: outletCount }, (_, i) => {
    const rng = rOutlets.fork(`outlet-${i + 1}`);
    const place = outletPlace(i, () => rng.between(-1, 1));
    return { rng, place, factor: round(rng.between(0.8, 1.3), 2) };
  });
  const factors = outletPlans.map((o) => o.factor);

  const finished = products.map((product) => ({
    product,
    quantity: Math.round(factors.reduce((s, f) => s + expectedDemand(product, f, 1), 0) * 0.15),
  }));
  addStock(inventory, rInv, parent.id, warehouse, ingredients, finished, { next: 1 });

  const supplierSet = new TableSet();
  const { suppliers, primary } = addSuppliers(
    supplierSet,
    root.fork('suppliers'),
    ctx,
    parent.id,
    SUPPLIERS_BARCELONA,
    ingredients,
  );
  const recipeSet = new TableSet();
  const recipes = addRecipes(recipeSet, root.fork('recipes'), parent.id, products, ingredients, {
    version: 2,
    prefix: 'Receta estándar',
  });
  const equipmentSet = new TableSet();
  const equipment = addEquipment(equipmentSet, root.fork('equipment'), ctx, parent.id, warehouse, EQUIPMENT);
  const ovens = equipment.filter((e) => e.type === 'oven');

  const plan = (recipe: Recipe, d: number) => plannedProduction(recipe.product, factors, d);
  const batchSeq = { next: 1 };
  const productionHistory = new TableSet();
  const pastBatches = addBatches(
    productionHistory,
    root.fork('production/history'),
    parent.id,
    warehouse,
    recipes,
    ovens,
    history,
    plan,
    batchSeq,
  );
  const productionCurrent = new TableSet();
  addBatches(
    productionCurrent,
    root.fork('production/current'),
    parent.id,
    warehouse,
    recipes,
    ovens,
    future,
    plan,
    batchSeq,
  );

  const procurementHistory = new TableSet();
  const procurementCurrent = new TableSet();
  const use = ingredientUsePerDay(recipes, new Map(ingredients.map((i) => [i.def.key, i.id])), factors);
  const buyer = users.find((u) => u.role === 'procurement') ?? (users[0] as (typeof users)[number]);
  const orders = addPurchaseOrders(
    procurementHistory,
    procurementCurrent,
    root.fork('procurement'),
    ctx,
    parent.id,
    warehouse,
    buyer,
    suppliers,
    primary,
    use,
    { next: 1 },
  );

  const orchestration = new TableSet();
  addOrchestration(
    orchestration,
    root.fork('orchestration'),
    ctx,
    parent.id,
    pastBatches,
    orders,
    `del obrador central para ${outletCount} tiendas`,
  );

  // --- the outlets' own data
  const big = salesRowCount(outletCount, products.length, args.days, args.scale) > NDJSON_THRESHOLD;
  const outlets: Outlet[] = [];
  const childFiles: FilePlan[] = [];
  const tenants: Array<ProfilePlan['tenants'][number]> = [{ id: parent.id, role: 'parent', name: parent.name }];
  const orderSeq = { next: 1 };
  outletPlans.forEach(({ rng, place, factor }, i) => {
    const set = new TableSet();
    const child = addTenant(set, rng.fork('tenant'), ctx, {
      name: `${CHAIN} ${place.name}`,
      parentId: parent.id,
      businessType: 'retail_outlet',
      tier: 'enterprise',
      city: place.city,
      domain: DOMAIN,
      opening: '07:30',
      closing: '21:00',
      settings: { tax_rate: 0.1, low_stock_alerts: true, supplied_by: 'central_production', daily_delivery: true },
    });
    tenants.push({ id: child.id, role: 'child', name: child.name });
    addUsers(set, rng.fork('users'), ctx, child, ['store_manager', 'sales'], emails);
    const location = addLocation(
      set,
      rng.fork('location'),
      child.id,
      { ...place, name: `${CHAIN} ${place.name}` },
      'retail',
    );
    const outlet: Outlet = { tenantId: child.id, location, factor };
    outlets.push(outlet);
    const onShelf = products.map((product) => ({
      product,
      quantity: Math.round(expectedDemand(product, factor, 0) * 0.08),
    }));
    addStock(set, rng.fork('stock'), child.id, location, [], onShelf, { next: 1 });
    const rOrders = rng.fork('orders');
    const customerDefs = [
      BUSINESSES[(2 * i) % BUSINESSES.length],
      BUSINESSES[(2 * i + 1) % BUSINESSES.length],
      PEOPLE[i % PEOPLE.length],
    ] as CustomerDef[];
    const customers = addCustomers(set, rOrders, child.id, customerDefs, place.city);
    addCustomerOrders(set, rOrders, ctx.firstDay, outlet, customers, products, orderSeq);
    const sales = () => salesRows(rng.fork('sales'), [outlet], products, history, args.scale);
    const name = `children/outlet-${i + 1}`;
    const description = `Outlet ${child.name}: its tenant, staff, shop, stock, customers and orders${big ? '' : ', and its daily sales history'}.`;
    if (big) {
      childFiles.push(jsonFile(`${name}.json`, description, set));
      childFiles.push({
        kind: 'ndjson',
        path: `${name}-sales-historical.ndjson`,
        table: 'sales.sales_daily',
        rows: { [Symbol.iterator]: sales },
      });
    } else {
      childFiles.push(jsonFile(`${name}.json`, description, set, ['sales.sales_daily', { [Symbol.iterator]: sales }]));
    }
  });

  const forecasting = new TableSet();
  addForecasts(forecasting, root.fork('forecasting'), parent.id, args.days, outlets, products, FORECAST_HORIZON_DAYS);

  const routesHistory = new TableSet();
  const routesCurrent = new TableSet();
  const routeSeq = { next: 1 };
  const rRoutes = root.fork('distribution');
  addRoutes(
    routesHistory,
    rRoutes,
    parent.id,
    warehouse,
    outlets,
    products,
    history.slice(-ROUTE_HISTORY_DAYS),
    routeSeq,
  );
  addRoutes(routesCurrent, rRoutes, parent.id, warehouse, outlets, products, future, routeSeq);

  return {
    description: `${CHAIN} (Barcelona): a central production site supplying ${outletCount} retail outlets; ${args.products} products, ${args.days} days of history.`,
    tenants,
    owner: ownerOf(users),
    files: [
      jsonFile('parent/00-tenant.json', 'The central production site (parent tenant) and its settings.', tenantSet),
      jsonFile('parent/01-users.json', 'Central staff: director, production manager, purchasing.', userSet),
      jsonFile(
        'parent/02-inventory.json',
        'The central warehouse, ingredients, the shared product catalog and warehouse stock.',
        inventory,
      ),
      jsonFile('parent/03-suppliers.json', 'Centralised suppliers and their ingredient price lists.', supplierSet),
      jsonFile('parent/04-recipes.json', 'Standardised recipes of the produced products.', recipeSet),
      jsonFile('parent/05-production-equipment.json', 'Equipment of the central production site.', equipmentSet),
      jsonFile(
        'parent/06-production-historical.json',
        'Completed batches: one per produced product per day of history.',
        productionHistory,
      ),
      jsonFile('parent/07-production-current.json', 'Batches planned for the next days.', productionCurrent),
      jsonFile(
        'parent/08-procurement-historical.json',
        'Purchase orders received during the history, with their lines.',
        procurementHistory,
      ),
      jsonFile(
        'parent/09-procurement-current.json',
        'Open purchase orders expected after the reference day, with their lines.',
        procurementCurrent,
      ),
      jsonFile(
        'parent/12-orchestration.json',
        'Daily planning runs of the central site and the batches and purchase orders they created.',
        orchestration,
      ),
      jsonFile(
        'parent/13-forecasting.json',
        `Demand forecast models per product and outlet, with forecasts for the next ${FORECAST_HORIZON_DAYS} days.`,
        forecasting,
      ),
      ...childFiles,
      jsonFile(
        'distribution/routes-historical.json',
        `Delivery routes of the last ${Math.min(ROUTE_HISTORY_DAYS, args.days)} days, their stops and shipments.`,
        routesHistory,
      ),
      jsonFile(
        'distribution/routes-current.json',
        'Delivery routes planned for the next days, their stops and shipments.',
        routesCurrent,
      ),
    ],
  };
}
