import type { Rng } from './random.ts';
import { isHalfCent, lineTotal, round, sumMoney, type TableSet } from './records.ts';
import { day, dayOf, moment, timestamp } from './time.ts';
import type { Ctx, Location, User } from './master.ts';
import type { Equipment, PriceEntry, Recipe, Supplier } from './supply.ts';

/**
 * The running business of a producing site: production batches (history and
 * the next days), purchase orders to suppliers (history and open orders) and
 * the daily orchestration runs that planned them.
 */
export interface Batch {
  readonly id: string;
  readonly day: number;
  readonly sku: string;
  readonly quantity: number;
  readonly batchNumber: string;
}

export interface Counter {
  next: number;
}

/**
 * One batch per recipe per day in `offsets`. Days up to the reference day are
 * completed (with actual times, quantity and yield); later days are planned.
 */
export function addBatches(
  set: TableSet,
  rng: Rng,
  tenantId: string,
  location: Location,
  recipes: readonly Recipe[],
  ovens: readonly Equipment[],
  offsets: readonly number[],
  quantityFor: (recipe: Recipe, offset: number) => number,
  seq: Counter,
): Batch[] {
  const batches: Batch[] = [];
  for (const d of offsets) {
    recipes.forEach((recipe, i) => {
      const oven =
        ovens[recipe.product.def.category === 'bread' || ovens.length === 1 ? 0 : 1 + (i % (ovens.length - 1))];
      if (!oven) throw new Error('a producing site needs an oven');
      const planned = quantityFor(recipe, d);
      const minutes = recipe.def.prepMinutes + recipe.def.bakeMinutes;
      const start = moment(d, 2, 30) + (i % 12) * 35 * 60 + rng.int(0, 2) * 5 * 60;
      const end = start + minutes * 60;
      const done = d <= 0;
      const actualStart = start + rng.int(-5, 15) * 60;
      const actualEnd = actualStart + (minutes + rng.int(-5, 20)) * 60;
      const actual = Math.max(1, Math.round(planned * rng.between(0.9, 1.0)));
      const batchNumber = `LOTE-${String(seq.next++).padStart(5, '0')}`;
      const id = rng.uuid();
      set.add('production.production_batches', {
        id,
        tenant_id: tenantId,
        location_id: location.id,
        product_id: recipe.product.id,
        recipe_id: recipe.id,
        equipment_id: oven.id,
        batch_number: batchNumber,
        status: done ? 'completed' : d === 1 ? 'scheduled' : 'planned',
        planned_quantity: round(planned, 2),
        actual_quantity: done ? round(actual, 2) : null,
        planned_start: timestamp(start),
        planned_end: timestamp(end),
        actual_start: done ? timestamp(actualStart) : null,
        actual_end: done ? timestamp(actualEnd) : null,
        yield_percentage: done ? round((actual / planned) * 100, 2) : null,
      });
      batches.push({ id, day: d, sku: recipe.product.sku, quantity: planned, batchNumber });
    });
  }
  return batches;
}

export interface PurchaseOrder {
  readonly id: string;
  readonly day: number;
  readonly poNumber: string;
  readonly total: number;
}

const NOTES = [
  'Entregar antes de las 7:00 por el muelle de carga.',
  'Confirmar lote y fecha de caducidad en el albarán.',
  'Pedido urgente por aumento de demanda.',
];

/**
 * Purchase orders every `cadenceDays` per supplier over the history. Orders
 * already delivered by the reference day go to `history` (received); the rest,
 * and one order per supplier placed on the reference day if it has none open,
 * go to `current` (confirmed, expected after the reference day).
 */
export function addPurchaseOrders(
  history: TableSet,
  current: TableSet,
  rng: Rng,
  ctx: Ctx,
  tenantId: string,
  location: Location,
  createdBy: User,
  suppliers: readonly Supplier[],
  prices: ReadonlyMap<string, PriceEntry>,
  usePerDay: ReadonlyMap<string, number>,
  seq: Counter,
): PurchaseOrder[] {
  const orders: PurchaseOrder[] = [];
  const schedule: Array<{ supplier: Supplier; lines: PriceEntry[]; day: number }> = [];
  for (const supplier of suppliers) {
    const lines = [...prices.values()].filter(
      (p) => p.supplier === supplier && (usePerDay.get(p.ingredient.id) ?? 0) > 0,
    );
    if (lines.length === 0) continue;
    const { cadenceDays, leadTimeDays } = supplier.def;
    const days: number[] = [];
    for (let d = ctx.firstDay + supplier.index; d <= 0; d += cadenceDays) days.push(d);
    if (!days.some((d) => d + leadTimeDays > 0)) days.push(0);
    for (const d of days) schedule.push({ supplier, lines, day: d });
  }
  schedule.sort((a, b) => a.day - b.day || a.supplier.index - b.supplier.index);
  for (const { supplier, lines, day: d } of schedule) {
    const { cadenceDays, leadTimeDays } = supplier.def;
    const open = d + leadTimeDays > 0;
    const items = lines.map((line) => {
      const pack = line.ingredient.def.pack;
      const need = (usePerDay.get(line.ingredient.id) ?? 0) * cadenceDays * rng.between(0.9, 1.2);
      let packs = Math.max(1, Math.ceil(need / pack));
      while (isHalfCent(packs * pack, line.unitPrice)) packs++;
      const quantity = round(packs * pack, 3);
      return { line, quantity, total: lineTotal(quantity, line.unitPrice) };
    });
    const total = sumMoney(items.map((i) => i.total));
    const expected = d + leadTimeDays;
    const received = open ? null : Math.min(0, expected + (rng.chance(0.15) ? 1 : 0));
    const id = rng.uuid();
    const poNumber = `OC-${String(seq.next++).padStart(6, '0')}`;
    const set = open ? current : history;
    set.add('procurement.purchase_orders', {
      id,
      tenant_id: tenantId,
      supplier_id: supplier.id,
      location_id: location.id,
      created_by: createdBy.id,
      po_number: poNumber,
      status: open ? 'confirmed' : 'received',
      order_date: day(d),
      expected_delivery_date: day(expected),
      received_date: received === null ? null : day(received),
      total_amount: total,
      notes: rng.chance(0.25) ? rng.pick(NOTES) : null,
    });
    for (const item of items) {
      set.add('procurement.purchase_order_items', {
        id: rng.uuid(),
        tenant_id: tenantId,
        purchase_order_id: id,
        ingredient_id: item.line.ingredient.id,
        quantity: item.quantity,
        unit: item.line.ingredient.def.unit,
        unit_price: item.line.unitPrice,
        line_total: item.total,
      });
    }
    orders.push({ id, day: d, poNumber, total });
  }
  return orders;
}

/**
 * One completed daily planning run per historical day: it schedules that day's
 * batches and places that day's purchase orders, one action for each.
 */
export function addOrchestration(
  set: TableSet,
  rng: Rng,
  ctx: Ctx,
  tenantId: string,
  batches: readonly Batch[],
  orders: readonly PurchaseOrder[],
  scope: string,
): void {
  for (let d = ctx.firstDay; d <= 0; d++) {
    const dayBatches = batches.filter((b) => b.day === d);
    const dayOrders = orders.filter((o) => o.day === d);
    const started = moment(d, 1, 30, rng.int(0, 59));
    const completed = started + rng.int(35, 140);
    if (dayOf(completed) !== d) throw new Error('orchestration run crosses midnight');
    const runId = rng.uuid();
    set.add('orchestrator.orchestration_runs', {
      id: runId,
      tenant_id: tenantId,
      run_type: 'daily_planning',
      status: 'completed',
      started_at: timestamp(started),
      completed_at: timestamp(completed),
      batches_planned: dayBatches.length,
      purchase_orders_created: dayOrders.length,
      summary: `Plan diario ${scope}: ${plural(dayBatches.length, 'lote programado', 'lotes programados')}, ${plural(dayOrders.length, 'orden de compra', 'órdenes de compra')}.`,
    });
    let at = started + 5;
    for (const b of dayBatches) {
      set.add('orchestrator.orchestration_actions', {
        id: rng.uuid(),
        tenant_id: tenantId,
        run_id: runId,
        action_type: 'schedule_production',
        production_batch_id: b.id,
        purchase_order_id: null,
        created_at: timestamp(at++),
        details: { product_sku: b.sku, quantity: b.quantity },
      });
    }
    for (const o of dayOrders) {
      set.add('orchestrator.orchestration_actions', {
        id: rng.uuid(),
        tenant_id: tenantId,
        run_id: runId,
        action_type: 'create_purchase_order',
        production_batch_id: null,
        purchase_order_id: o.id,
        created_at: timestamp(at++),
        details: { po_number: o.poNumber, total_amount: o.total },
      });
    }
  }
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
