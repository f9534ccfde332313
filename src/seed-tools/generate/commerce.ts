import type { Rng } from './random.ts';
import { lineTotal, record, round, sumMoney, type SeedRecord, type TableSet } from './records.ts';
import { day, moment, timestamp } from './time.ts';
import { expectedDemand } from './demand.ts';
import { CHANNELS, asciiSlug, type CustomerDef } from './names.ts';
import type { Location, Product } from './master.ts';
import type { Counter } from './operations.ts';

/**
 * The selling side of a shop: customers and their orders, the daily sales
 * history (streamed: it is the table that grows with `--scale`) and forecasts.
 */
export interface Shop {
  readonly tenantId: string;
  readonly location: Location;
  /** Size of the shop relative to a typical neighbourhood bakery. */
  readonly factor: number;
}

export interface Customer {
  readonly id: string;
  readonly def: CustomerDef;
}

export function addCustomers(
  set: TableSet,
  rng: Rng,
  tenantId: string,
  defs: readonly CustomerDef[],
  city: string,
): Customer[] {
  return defs.map((def) => {
    const id = rng.uuid();
    const slug = asciiSlug(def.name, '.');
    set.add('orders.customers', {
      id,
      tenant_id: tenantId,
      name: def.name,
      email:
        def.type === 'business'
          ? `pedidos.${slug.split('.').slice(0, 3).join('.')}@example.com`
          : `${slug}@example.com`,
      phone: `+34 6${rng.int(10, 99)} ${rng.int(100, 999)} ${rng.int(100, 999)}`,
      customer_type: def.type,
      city,
    });
    return { id, def };
  });
}

interface OrderSpec {
  readonly customer: Customer;
  readonly ordered: number;
  readonly delivery: number;
  readonly status: string;
}

/**
 * Customer orders: businesses order weekly (delivered the next day), private
 * customers now and then; some customers have an order pending delivery in the
 * next days. Each order's total is the exact sum of its lines.
 */
export function addCustomerOrders(
  set: TableSet,
  rng: Rng,
  firstDay: number,
  shop: Shop,
  customers: readonly Customer[],
  products: readonly Product[],
  seq: Counter,
): void {
  const specs: OrderSpec[] = [];
  customers.forEach((customer, i) => {
    if (customer.def.type === 'business') {
      for (let d = firstDay + (i % 7); d + 1 <= 0; d += 7) {
        if (rng.chance(0.8)) specs.push({ customer, ordered: d, delivery: d + 1, status: 'delivered' });
      }
    } else {
      for (let k = 0; k < 2; k++) {
        const d = rng.int(firstDay, -2);
        specs.push({ customer, ordered: d, delivery: d + rng.int(0, 2), status: 'delivered' });
      }
    }
    if (i % 2 === 0) {
      const delivery = rng.int(1, 5);
      specs.push({ customer, ordered: rng.int(-2, 0), delivery, status: delivery >= 3 ? 'pending' : 'confirmed' });
    }
  });
  specs.sort((a, b) => a.ordered - b.ordered || customers.indexOf(a.customer) - customers.indexOf(b.customer));
  for (const spec of specs) {
    const business = spec.customer.def.type === 'business';
    const chosen = rng.shuffle(products).slice(0, Math.min(products.length, rng.int(1, 3)));
    const lines = chosen.map((product) => {
      const quantity = business
        ? Math.max(4, Math.round(product.def.baseDemand * rng.between(0.08, 0.25)))
        : rng.int(2, 12);
      const unitPrice = business ? round(product.price * 0.85, 2) : product.price;
      return { product, quantity, unitPrice, total: lineTotal(quantity, unitPrice) };
    });
    const id = rng.uuid();
    set.add('orders.customer_orders', {
      id,
      tenant_id: shop.tenantId,
      customer_id: spec.customer.id,
      location_id: shop.location.id,
      order_number: `PED-${String(seq.next++).padStart(6, '0')}`,
      status: spec.status,
      order_date: day(spec.ordered),
      delivery_date: day(spec.delivery),
      total_amount: sumMoney(lines.map((l) => l.total)),
    });
    for (const line of lines) {
      set.add('orders.customer_order_items', {
        id: rng.uuid(),
        tenant_id: shop.tenantId,
        order_id: id,
        product_id: line.product.id,
        quantity: line.quantity,
        unit_price: line.unitPrice,
        line_total: line.total,
      });
    }
  }
}

/** Share of a shop's counter demand sold through each channel (channel 0 is the counter). */
const CHANNEL_SHARE = [1, 0.18, 0.12, 0.08, 0.1, 0.05, 0.04, 0.03];

export function channelName(index: number): string {
  return CHANNELS[index] ?? `pos-${String(index + 1).padStart(4, '0')}`;
}

const wasteRate = (p: Product): number =>
  p.def.category === 'resale' ? 0.01 : p.def.shelfLifeDays <= 1 ? 0.06 : p.def.shelfLifeDays <= 2 ? 0.04 : 0.02;

/** Number of sales rows `salesRows` yields. */
export function salesRowCount(shops: number, products: number, days: number, channels: number): number {
  return shops * products * days * channels;
}

/**
 * Daily sales per day (oldest first), shop, product and channel, generated
 * lazily so millions of rows never sit in memory.
 */
export function* salesRows(
  rng: Rng,
  shops: readonly Shop[],
  products: readonly Product[],
  offsets: readonly number[],
  channels: number,
): Generator<SeedRecord> {
  const wholesale = products.map((p) => round(p.price * 0.85, 2));
  for (const d of offsets) {
    const date = day(d);
    for (const shop of shops) {
      for (let pi = 0; pi < products.length; pi++) {
        const product = products[pi] as Product;
        const expected = expectedDemand(product, shop.factor, d);
        for (let c = 0; c < channels; c++) {
          const noise = 1 + 0.25 * (rng.float() + rng.float() + rng.float() - 1.5);
          const quantity = Math.max(1, Math.round(expected * (CHANNEL_SHARE[c] ?? 0.02) * noise));
          const unitPrice = c === 2 ? (wholesale[pi] as number) : product.price;
          const waste = c === 0 ? Math.round(quantity * wasteRate(product) * rng.between(0.3, 1.7)) : 0;
          yield record('sales.sales_daily', {
            id: rng.uuid(),
            tenant_id: shop.tenantId,
            location_id: shop.location.id,
            product_id: product.id,
            sale_date: date,
            quantity_sold: quantity,
            revenue: lineTotal(quantity, unitPrice),
            waste_quantity: waste,
            channel: channelName(c),
          });
        }
      }
    }
  }
}

/**
 * A forecast model per product and shop, trained on the reference day, and
 * its daily forecasts for the next `horizon` days (bounds widen with distance).
 */
export function addForecasts(
  set: TableSet,
  rng: Rng,
  tenantId: string,
  trainingDays: number,
  shops: readonly Shop[],
  products: readonly Product[],
  horizon: number,
): void {
  let k = 0;
  for (const shop of shops) {
    for (const product of products) {
      const modelId = rng.uuid();
      set.add('forecasting.forecast_models', {
        id: modelId,
        tenant_id: tenantId,
        product_id: product.id,
        location_id: shop.location.id,
        algorithm:
          product.def.category === 'bread' ? 'prophet' : product.def.category === 'pastry' ? 'lightgbm' : 'sarima',
        trained_at: timestamp(moment(0, 22, 0) + 20 * k++),
        training_days: trainingDays,
        mape: round(rng.between(6.5, 18.5), 3),
      });
      for (let d = 1; d <= horizon; d++) {
        const predicted = round(expectedDemand(product, shop.factor, d) * rng.between(0.96, 1.04), 2);
        const margin = 0.08 + 0.01 * d;
        set.add('forecasting.forecasts', {
          id: rng.uuid(),
          tenant_id: tenantId,
          model_id: modelId,
          product_id: product.id,
          location_id: shop.location.id,
          forecast_date: day(d),
          predicted_quantity: predicted,
          lower_bound: round(predicted * (1 - margin), 2),
          upper_bound: round(predicted * (1 + margin), 2),
        });
      }
    }
  }
}
