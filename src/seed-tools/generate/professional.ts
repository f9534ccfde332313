import { Rng } from './random.ts';
import { TableSet } from './records.ts';
import { historyOffsets } from './time.ts';
import { CUSTOMERS_MADRID, SUPPLIERS_MADRID, producedProducts } from './names.ts';
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
import { addEquipment, addRecipes, addSuppliers } from './supply.ts';
import { expectedDemand, ingredientUsePerDay, plannedProduction } from './demand.ts';
import { addBatches, addOrchestration, addPurchaseOrders } from './operations.ts';
import { addCustomerOrders, addCustomers, addForecasts, salesRowCount, salesRows, type Shop } from './commerce.ts';
import {
  FORECAST_HORIZON_DAYS,
  FUTURE_PRODUCTION_DAYS,
  NDJSON_THRESHOLD,
  jsonFile,
  type ProfilePlan,
} from './profile.ts';
import type { ResolvedArgs } from './options.ts';

/**
 * The professional profile: one neighbourhood bakery in Madrid that bakes on
 * site and sells over its own counter ("Panadería San Miguel").
 */
const PLACE = {
  name: 'Panadería San Miguel - Obrador y tienda',
  address: 'Calle de Toledo 45',
  city: 'Madrid',
  latitude: 40.411203,
  longitude: -3.709841,
};
const PEOPLE = ['María García López', 'Javier Martín Ruiz', 'Lucía Fernández Gómez', 'Carlos Sánchez Moreno'];
const EQUIPMENT = [
  { name: 'Horno de pisos Salva Modular 4 bocas', type: 'oven', capacityPerHour: 180, status: 'operational' },
  { name: 'Horno de convección Rational iCombi', type: 'oven', capacityPerHour: 240, status: 'operational' },
  { name: 'Amasadora espiral Sinmag 80 kg', type: 'mixer', capacityPerHour: 160, status: 'operational' },
  { name: 'Cámara de fermentación controlada', type: 'proofer', capacityPerHour: 300, status: 'operational' },
  { name: 'Laminadora Rondo Econom', type: 'sheeter', capacityPerHour: 400, status: 'maintenance' },
];

export function planProfessional(args: ResolvedArgs): ProfilePlan {
  const root = Rng.root(args.seed).fork(args.profile);
  const ctx: Ctx = { days: args.days, firstDay: -(args.days - 1) };
  const history = historyOffsets(args.days);
  const future = Array.from({ length: FUTURE_PRODUCTION_DAYS }, (_, i) => i + 1);

  const tenantSet = new TableSet();
  const tenant = addTenant(tenantSet, root.fork('tenant'), ctx, {
    name: 'Panadería San Miguel',
    parentId: null,
    businessType: 'bakery',
    tier: 'professional',
    city: 'Madrid',
    domain: 'panaderiasanmiguel.es',
    opening: '07:00',
    closing: '20:30',
    settings: {
      tax_rate: 0.1,
      low_stock_alerts: true,
      production_planning_horizon_days: FUTURE_PRODUCTION_DAYS,
      forecast_horizon_days: FORECAST_HORIZON_DAYS,
      week_starts_on: 'monday',
    },
  });

  const userSet = new TableSet();
  const users = addUsers(
    userSet,
    root.fork('users'),
    ctx,
    tenant,
    ['owner', 'production_manager', 'sales', 'procurement'],
    new Set(),
    PEOPLE,
  );

  const inventory = new TableSet();
  const rInv = root.fork('inventory');
  const location = addLocation(inventory, rInv, tenant.id, PLACE, 'bakery');
  const shop: Shop = { tenantId: tenant.id, location, factor: 1 };
  const ingredients = addIngredients(inventory, rInv, tenant.id);
  const products = addProducts(inventory, rInv, tenant.id, producedProducts(args.products));
  const leftovers = products.map((product) => ({
    product,
    quantity: Math.round(expectedDemand(product, 1, 0) * 0.06),
  }));
  addStock(inventory, rInv, tenant.id, location, ingredients, leftovers, { next: 1 });

  const supplierSet = new TableSet();
  const { suppliers, primary } = addSuppliers(
    supplierSet,
    root.fork('suppliers'),
    ctx,
    tenant.id,
    SUPPLIERS_MADRID,
    ingredients,
  );

  const recipeSet = new TableSet();
  const recipes = addRecipes(recipeSet, root.fork('recipes'), tenant.id, products, ingredients, {
    version: 1,
    prefix: 'Receta',
  });

  const equipmentSet = new TableSet();
  const equipment = addEquipment(equipmentSet, root.fork('equipment'), ctx, tenant.id, location, EQUIPMENT);
  const ovens = equipment.filter((e) => e.type === 'oven');

  const plan = (recipe: (typeof recipes)[number], d: number) => plannedProduction(recipe.product, [1], d);
  const batchSeq = { next: 1 };
  const productionHistory = new TableSet();
  const pastBatches = addBatches(
    productionHistory,
    root.fork('production/history'),
    tenant.id,
    location,
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
    tenant.id,
    location,
    recipes,
    ovens,
    future,
    plan,
    batchSeq,
  );

  const procurementHistory = new TableSet();
  const procurementCurrent = new TableSet();
  const use = ingredientUsePerDay(recipes, new Map(ingredients.map((i) => [i.def.key, i.id])), [1]);
  const buyer = users.find((u) => u.role === 'procurement') ?? (users[0] as (typeof users)[number]);
  const orders = addPurchaseOrders(
    procurementHistory,
    procurementCurrent,
    root.fork('procurement'),
    ctx,
    tenant.id,
    location,
    buyer,
    suppliers,
    primary,
    use,
    { next: 1 },
  );

  const salesCount = salesRowCount(1, products.length, args.days, args.scale);
  const sales = () => salesRows(root.fork('sales'), [shop], products, history, args.scale);
  const big = salesCount > NDJSON_THRESHOLD;

  const orderSet = new TableSet();
  const rOrders = root.fork('orders');
  const customers = addCustomers(orderSet, rOrders, tenant.id, CUSTOMERS_MADRID, 'Madrid');
  addCustomerOrders(orderSet, rOrders, ctx.firstDay, shop, customers, products, { next: 1 });

  const orchestration = new TableSet();
  addOrchestration(
    orchestration,
    root.fork('orchestration'),
    ctx,
    tenant.id,
    pastBatches,
    orders,
    'de Panadería San Miguel',
  );

  const forecasting = new TableSet();
  addForecasts(forecasting, root.fork('forecasting'), tenant.id, args.days, [shop], products, FORECAST_HORIZON_DAYS);

  return {
    description: `Panadería San Miguel (Madrid): one bakery that bakes and sells on site; ${args.products} products, ${args.days} days of history.`,
    tenants: [{ id: tenant.id, role: 'main', name: tenant.name }],
    owner: ownerOf(users),
    files: [
      jsonFile('00-tenant.json', 'The bakery tenant and its settings.', tenantSet),
      jsonFile('01-users.json', 'Staff accounts: owner, master baker, shop assistant, purchasing.', userSet),
      jsonFile(
        '02-inventory.json',
        'The bakery location, ingredients, products and stock at the end of the reference day.',
        inventory,
      ),
      jsonFile('03-suppliers.json', 'Suppliers and their ingredient price lists.', supplierSet),
      jsonFile('04-recipes.json', 'One recipe per product with its ingredients (quantities per batch).', recipeSet),
      jsonFile('05-production-equipment.json', 'Ovens and other production equipment.', equipmentSet),
      jsonFile(
        '06-production-historical.json',
        'Completed production batches: one per product per day of history.',
        productionHistory,
      ),
      jsonFile('07-production-current.json', 'Production batches planned for the next days.', productionCurrent),
      jsonFile(
        '08-procurement-historical.json',
        'Purchase orders received during the history, with their lines.',
        procurementHistory,
      ),
      jsonFile(
        '09-procurement-current.json',
        'Open purchase orders expected after the reference day, with their lines.',
        procurementCurrent,
      ),
      big
        ? {
            kind: 'ndjson',
            path: '10-sales-historical.ndjson',
            table: 'sales.sales_daily',
            rows: { [Symbol.iterator]: sales },
          }
        : jsonFile('10-sales-historical.json', 'Daily sales per product and channel over the history.', [
            'sales.sales_daily',
            { [Symbol.iterator]: sales },
          ]),
      jsonFile(
        '11-orders.json',
        'Customers and their orders: delivered during the history and pending delivery.',
        orderSet,
      ),
      jsonFile(
        '12-orchestration.json',
        'Daily planning runs and the batches and purchase orders they created.',
        orchestration,
      ),
      jsonFile(
        '13-forecasting.json',
        `Forecast models and daily demand forecasts for the next ${FORECAST_HORIZON_DAYS} days.`,
        forecasting,
      ),
    ],
  };
}
