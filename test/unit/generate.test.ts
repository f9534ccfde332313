import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Command, CommanderError } from 'commander';
import { SERVICES } from '../../src/catalog/services.ts';
import { TABLES, entityOf, type TableSpec } from '../../src/catalog/tables.ts';
import { GenerateOptionsError, generateProfile, type GenerateOptions } from '../../src/seed-tools/generate/index.ts';
import { registerGenerate } from '../../src/cli/commands/generate.ts';

/**
 * The generator and the checked-in profiles, checked from the outside: the
 * checks re-derive every rule (dates, totals, routes) without the generator's code.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const REF = '2026-01-15';
const CATALOG: TableSpec[] = SERVICES.flatMap((s) => [...TABLES[s]]);
const SPEC = new Map(CATALOG.map((t) => [entityOf(t) as string, t]));
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

type Rec = Record<string, unknown>;
interface Manifest {
  profile: string;
  format_version: number;
  reference_date: string;
  history_days: number;
  tenants: Array<{ id: string; role: string; name: string }>;
  owner?: { user_id: string; role: string };
  files: string[];
  counts: Record<string, Record<string, number>>;
  generator: { command: string; args: Record<string, unknown> };
}
interface Loaded {
  dir: string;
  manifest: Manifest;
  /** Per file, per table, in file order. */
  files: Array<{ path: string; tables: Array<[string, Rec[]]> }>;
  tables: Map<string, Rec[]>;
}

function addDays(date: string, n: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

async function loadProfile(dir: string): Promise<Loaded> {
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const files: Loaded['files'] = [];
  const tables = new Map<string, Rec[]>();
  for (const path of manifest.files) {
    const text = await readFile(join(dir, path), 'utf8');
    let parsed: Array<[string, Rec[]]>;
    if (path.endsWith('.ndjson')) {
      const lines = text.split('\n').filter((l) => l !== '');
      const head = JSON.parse(lines[0] as string) as { table: string };
      parsed = [[head.table, lines.slice(1).map((l) => JSON.parse(l) as Rec)]];
    } else {
      const doc = JSON.parse(text) as { description: string; tables: Record<string, Rec[]> };
      expect(Object.keys(doc)).toEqual(['description', 'tables']);
      parsed = Object.entries(doc.tables);
    }
    files.push({ path, tables: parsed });
    for (const [entity, rows] of parsed) tables.set(entity, [...(tables.get(entity) ?? []), ...rows]);
  }
  return { dir, manifest, files, tables };
}

const rows = (p: Loaded, entity: string): Rec[] => p.tables.get(entity) ?? [];

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)));
  }
  return out.sort();
}

/** numeric(p, s) of every column in the migrations, by `service.table.column`. */
async function numericScales(): Promise<Map<string, { precision: number; scale: number }>> {
  const out = new Map<string, { precision: number; scale: number }>();
  for (const service of SERVICES) {
    const sql = await readFile(join(ROOT, 'migrations', service, '001_init.sql'), 'utf8');
    for (const m of sql.matchAll(/CREATE TABLE (\w+) \(([\s\S]*?)\n\);/g)) {
      for (const c of (m[2] as string).matchAll(/^\s+(\w+) numeric\((\d+), (\d+)\)/gm)) {
        out.set(`${service}.${m[1]}.${c[1]}`, { precision: Number(c[2]), scale: Number(c[3]) });
      }
    }
  }
  return out;
}

function decimals(n: number): number {
  const s = String(n);
  expect(s).not.toMatch(/e/i);
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

/** Exact decimal value of a JSON number, in units of 10^-scale. */
function units(n: number, scale: number): bigint {
  const [int = '0', frac = ''] = String(Math.abs(n)).split('.');
  const v = BigInt(int + frac.padEnd(scale, '0').slice(0, scale));
  if (frac.length > scale) throw new Error(`${n} has more than ${scale} decimals`);
  return n < 0 ? -v : v;
}

/** round(q * p, 2), half away from zero, computed in exact decimal. */
function exactLineTotal(q: number, p: number): bigint {
  const prod = units(q, 4) * units(p, 4); // 1e-8
  return (prod + 500_000n) / 1_000_000n; // cents
}

// ---------------------------------------------------------------- the checks

function structureProblems(p: Loaded, scales: Map<string, { precision: number; scale: number }>): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  const byEntity = new Map<string, Set<string>>();
  for (const [entity, list] of p.tables) {
    const set = new Set<string>();
    for (const r of list) set.add(r.id as string);
    byEntity.set(entity, set);
    for (const r of list) {
      const id = r.id as string;
      if (!UUID_V4.test(id)) problems.push(`${entity}: id ${id} is not a UUIDv4`);
      if (ids.has(id)) problems.push(`${entity}: id ${id} is not unique`);
      ids.add(id);
    }
  }
  const tenants = byEntity.get('tenant.tenants') ?? new Set<string>();
  for (const [entity, list] of p.tables) {
    const spec = SPEC.get(entity);
    if (!spec) {
      problems.push(`unknown table ${entity}`);
      continue;
    }
    const columns = Object.keys(spec.columns);
    for (const r of list) {
      const keys = Object.keys(r);
      if (keys.join() !== columns.join()) {
        problems.push(`${entity}: columns ${keys.join()} != ${columns.join()}`);
        continue;
      }
      for (const [column, col] of Object.entries(spec.columns)) {
        const v = r[column];
        const where = `${entity}.${column}=${JSON.stringify(v)}`;
        if (v === null) {
          if (!('nullable' in col && col.nullable)) problems.push(`${where}: null in a NOT NULL column`);
          continue;
        }
        switch (col.kind) {
          case 'id':
            break;
          case 'tenant':
            if (!tenants.has(v as string)) problems.push(`${where}: not a tenant of the profile`);
            break;
          case 'ref':
            if (!byEntity.get(col.entity)?.has(v as string)) problems.push(`${where}: no ${col.entity} with that id`);
            break;
          case 'date':
            if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v) || addDays(v, 0) !== v)
              problems.push(`${where}: not a date`);
            break;
          case 'timestamp':
            if (
              typeof v !== 'string' ||
              !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(v) ||
              new Date(v).toISOString() !== v.replace('Z', '.000Z')
            ) {
              problems.push(`${where}: not a UTC timestamp`);
            }
            break;
          case 'int':
            if (!Number.isInteger(v)) problems.push(`${where}: not an integer`);
            break;
          case 'numeric': {
            const s = scales.get(`${spec.service}.${spec.name}.${column}`);
            if (typeof v !== 'number' || !Number.isFinite(v)) problems.push(`${where}: not a number`);
            else if (!s) problems.push(`${where}: no numeric(p, s) in the migration`);
            else if (decimals(v) > s.scale || Math.abs(v) >= 10 ** (s.precision - s.scale))
              problems.push(`${where}: does not fit numeric(${s.precision}, ${s.scale})`);
            break;
          }
          case 'bool':
            if (typeof v !== 'boolean') problems.push(`${where}: not a boolean`);
            break;
          case 'text':
            if (typeof v !== 'string' || v === '') problems.push(`${where}: not a non-empty string`);
            break;
          case 'json':
            if (typeof v !== 'object' || Array.isArray(v)) problems.push(`${where}: not an object`);
            break;
        }
      }
    }
  }
  return problems;
}

const FUTURE_COLUMNS: Record<string, string[]> = {
  'production.production_batches': ['planned_start', 'planned_end'],
  'procurement.purchase_orders': ['expected_delivery_date'],
  'orders.customer_orders': ['delivery_date'],
  'orders.delivery_routes': ['route_date'],
  'orders.route_stops': ['planned_arrival'],
  'orders.shipments': ['shipped_at'],
  'forecasting.forecasts': ['forecast_date'],
};

function dateProblems(p: Loaded): string[] {
  const problems: string[] = [];
  const first = addDays(REF, -(p.manifest.history_days - 1));
  const lastFuture = addDays(REF, 14);
  for (const file of p.files) {
    const current = file.path.includes('current');
    for (const [entity, list] of file.tables) {
      const spec = SPEC.get(entity) as TableSpec;
      for (const r of list) {
        const future =
          current ||
          entity === 'forecasting.forecasts' ||
          (entity === 'orders.customer_orders' && ['pending', 'confirmed'].includes(r.status as string));
        for (const [column, col] of Object.entries(spec.columns)) {
          if ((col.kind !== 'date' && col.kind !== 'timestamp') || r[column] === null) continue;
          const d = (r[column] as string).slice(0, 10);
          const where = `${file.path} ${entity}.${column}=${d}`;
          if (entity === 'inventory.stock' && column === 'expiry_date') {
            if (d < REF) problems.push(`${where}: stock already expired`);
          } else if (future && FUTURE_COLUMNS[entity]?.includes(column)) {
            if (d <= REF || d > lastFuture) problems.push(`${where}: current row not 1..14 days after ${REF}`);
          } else if (d < first || d > REF) {
            problems.push(`${where}: outside the history ${first}..${REF}`);
          }
        }
      }
    }
  }
  return problems;
}

function totalsProblems(p: Loaded): string[] {
  const problems: string[] = [];
  for (const [orders, items, fk] of [
    ['procurement.purchase_orders', 'procurement.purchase_order_items', 'purchase_order_id'],
    ['orders.customer_orders', 'orders.customer_order_items', 'order_id'],
  ] as const) {
    const sums = new Map<string, bigint>();
    for (const it of rows(p, items)) {
      const line = units(it.line_total as number, 2);
      const exact = exactLineTotal(it.quantity as number, it.unit_price as number);
      if (line !== exact)
        problems.push(`${items} ${String(it.id)}: line_total ${String(it.line_total)} != round(q*p, 2) = ${exact}`);
      sums.set(it[fk] as string, (sums.get(it[fk] as string) ?? 0n) + line);
    }
    for (const o of rows(p, orders)) {
      const sum = sums.get(o.id as string);
      if (sum === undefined) problems.push(`${orders} ${String(o.id)} has no lines`);
      else if (units(o.total_amount as number, 2) !== sum)
        problems.push(`${orders} ${String(o.id)}: total ${String(o.total_amount)} != sum of lines ${sum}`);
    }
  }
  return problems;
}

function ruleProblems(p: Loaded): string[] {
  const problems: string[] = [];
  const positive: Record<string, string[]> = {
    'inventory.ingredients': ['cost_per_unit'],
    'inventory.products': ['unit_price'],
    'inventory.stock': ['quantity'],
    'suppliers.supplier_price_lists': ['unit_price', 'min_order_quantity'],
    'recipes.recipes': ['yield_quantity'],
    'recipes.recipe_ingredients': ['quantity'],
    'production.equipment': ['capacity_per_hour'],
    'production.production_batches': ['planned_quantity', 'actual_quantity'],
    'procurement.purchase_orders': ['total_amount'],
    'procurement.purchase_order_items': ['quantity', 'unit_price', 'line_total'],
    'orders.customer_orders': ['total_amount'],
    'orders.customer_order_items': ['quantity', 'unit_price', 'line_total'],
    'orders.delivery_routes': ['total_distance_km'],
    'orders.shipments': ['quantity'],
    'sales.sales_daily': ['quantity_sold', 'revenue'],
    'forecasting.forecasts': ['predicted_quantity', 'lower_bound'],
  };
  for (const [entity, columns] of Object.entries(positive)) {
    for (const r of rows(p, entity)) {
      for (const c of columns)
        if (r[c] !== null && !((r[c] as number) > 0)) problems.push(`${entity}.${c}=${String(r[c])} is not > 0`);
    }
  }
  for (const s of rows(p, 'sales.sales_daily'))
    if (!((s.waste_quantity as number) >= 0)) problems.push(`negative waste ${String(s.id)}`);
  for (const f of rows(p, 'forecasting.forecasts')) {
    if (!(
      (f.lower_bound as number) <= (f.predicted_quantity as number) &&
      (f.predicted_quantity as number) <= (f.upper_bound as number)
    )) {
      problems.push(`forecast ${String(f.id)} bounds`);
    }
  }
  for (const s of rows(p, 'inventory.stock')) {
    if ((s.ingredient_id === null) === (s.product_id === null))
      problems.push(`stock ${String(s.id)} must have exactly one of ingredient/product`);
  }
  const tenants = rows(p, 'tenant.tenants');
  for (const t of tenants) if (t.tenant_id !== t.id) problems.push(`tenant ${String(t.id)}: tenant_id != id`);
  tenants.forEach((t, i) => {
    if (t.parent_tenant_id !== null && !tenants.slice(0, i).some((q) => q.id === t.parent_tenant_id))
      problems.push(`tenant ${String(t.id)} comes before its parent`);
  });
  if (p.manifest.tenants.map((t) => t.id).join() !== tenants.map((t) => t.id).join())
    problems.push('manifest tenants differ from tenants rows');
  const emails = new Set<string>();
  for (const u of rows(p, 'auth.users')) {
    const key = `${String(u.tenant_id)}/${String(u.email)}`;
    if (emails.has(key)) problems.push(`duplicate email ${key}`);
    emails.add(key);
  }
  const recipeOf = new Map(rows(p, 'recipes.recipes').map((r) => [r.id as string, r.product_id as string]));
  const withRecipe = new Set(recipeOf.values());
  for (const b of rows(p, 'production.production_batches')) {
    if (!withRecipe.has(b.product_id as string)) problems.push(`batch ${String(b.id)}: produced product has no recipe`);
    if (recipeOf.get(b.recipe_id as string) !== b.product_id)
      problems.push(`batch ${String(b.id)}: recipe of another product`);
    if (!((b.planned_start as string) < (b.planned_end as string)))
      problems.push(`batch ${String(b.id)}: planned_start >= planned_end`);
    if (b.actual_start !== null && !((b.actual_start as string) < (b.actual_end as string)))
      problems.push(`batch ${String(b.id)}: actual_start >= actual_end`);
  }
  for (const o of rows(p, 'procurement.purchase_orders')) {
    if ((o.expected_delivery_date as string) < (o.order_date as string))
      problems.push(`po ${String(o.id)} expected before ordered`);
    if (o.received_date !== null && (o.received_date as string) < (o.order_date as string))
      problems.push(`po ${String(o.id)} received before ordered`);
  }
  for (const o of rows(p, 'orders.customer_orders')) {
    if ((o.delivery_date as string) < (o.order_date as string))
      problems.push(`order ${String(o.id)} delivered before ordered`);
  }
  const actions = rows(p, 'orchestrator.orchestration_actions');
  for (const run of rows(p, 'orchestrator.orchestration_runs')) {
    const mine = actions.filter((a) => a.run_id === run.id);
    if (mine.filter((a) => a.production_batch_id !== null).length !== run.batches_planned)
      problems.push(`run ${String(run.id)}: batches_planned`);
    if (mine.filter((a) => a.purchase_order_id !== null).length !== run.purchase_orders_created)
      problems.push(`run ${String(run.id)}: purchase_orders_created`);
  }
  return problems;
}

function countProblems(p: Loaded): string[] {
  const expected: Record<string, Record<string, number>> = {};
  for (const t of CATALOG) {
    const n = rows(p, entityOf(t)).length;
    if (n > 0) (expected[t.service] ??= {})[t.name] = n;
  }
  const problems: string[] = [];
  if (JSON.stringify(p.manifest.counts) !== JSON.stringify(expected))
    problems.push(`manifest counts ${JSON.stringify(p.manifest.counts)} != records ${JSON.stringify(expected)}`);
  for (const file of p.files) {
    const order = file.tables.map(([e]) => CATALOG.findIndex((t) => entityOf(t) === e));
    if (order.some((v, i) => i > 0 && v <= (order[i - 1] as number)))
      problems.push(`${file.path}: tables not in catalog order`);
  }
  return problems;
}

function haversine(a: Rec, b: Rec): number {
  const rad = Math.PI / 180;
  const [lat1, lon1, lat2, lon2] = [a.latitude, a.longitude, b.latitude, b.longitude] as number[];
  const h =
    Math.sin(((lat2! - lat1!) * rad) / 2) ** 2 +
    Math.cos(lat1! * rad) * Math.cos(lat2! * rad) * Math.sin(((lon2! - lon1!) * rad) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

function* allOrders<T>(items: T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield [...items];
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const tail of allOrders(rest)) yield [items[i] as T, ...tail];
  }
}

function routeProblems(p: Loaded): string[] {
  const problems: string[] = [];
  const locations = new Map(rows(p, 'inventory.locations').map((l) => [l.id as string, l]));
  const retail = rows(p, 'inventory.locations').filter((l) => l.location_type === 'retail');
  const stops = rows(p, 'orders.route_stops');
  const byDate = new Map<string, Set<string>>();
  for (const route of rows(p, 'orders.delivery_routes')) {
    const origin = locations.get(route.origin_location_id as string) as Rec;
    const mine = stops
      .filter((s) => s.route_id === route.id)
      .sort((a, b) => (a.stop_sequence as number) - (b.stop_sequence as number));
    if (mine.map((s) => s.stop_sequence).join() !== mine.map((_, i) => i + 1).join())
      problems.push(`route ${String(route.route_code)}: stop_sequence not 1..n`);
    const points = mine.map((s) => locations.get(s.location_id as string) as Rec);
    const length = (order: Rec[]) =>
      order.reduce((acc, to, i) => acc + haversine(i === 0 ? origin : (order[i - 1] as Rec), to), 0);
    let best = Infinity;
    for (const order of allOrders(points)) best = Math.min(best, length(order));
    if (length(points) > best + 1e-9)
      problems.push(`route ${String(route.route_code)}: ${length(points)} km, shortest is ${best} km`);
    let cents = 0;
    mine.forEach((s, i) => {
      const leg = haversine(i === 0 ? origin : (points[i - 1] as Rec), points[i] as Rec);
      if (Math.abs((s.distance_from_previous_km as number) - leg) > 0.005 + 1e-9)
        problems.push(`stop ${String(s.id)}: leg ${String(s.distance_from_previous_km)} != ${leg}`);
      cents += Math.round((s.distance_from_previous_km as number) * 100);
    });
    if (Math.round((route.total_distance_km as number) * 100) !== cents)
      problems.push(`route ${String(route.route_code)}: total != sum of legs`);
    if (Math.abs((route.total_distance_km as number) - best) > 0.005 * mine.length + 1e-9)
      problems.push(`route ${String(route.route_code)}: total far from shortest`);
    const seen = byDate.get(route.route_date as string) ?? new Set<string>();
    for (const s of mine) {
      if (seen.has(s.location_id as string)) problems.push(`${String(route.route_date)}: outlet visited twice`);
      seen.add(s.location_id as string);
      const loc = locations.get(s.location_id as string) as Rec;
      if (loc.tenant_id !== s.outlet_tenant_id)
        problems.push(`stop ${String(s.id)}: outlet_tenant_id is not the location's tenant`);
    }
    byDate.set(route.route_date as string, seen);
  }
  for (const [date, seen] of byDate) {
    for (const l of retail)
      if (!seen.has(l.id as string)) problems.push(`${date}: outlet ${String(l.name)} is not a stop`);
  }
  const stopRoute = new Map(stops.map((s) => [s.id as string, s.route_id]));
  for (const sh of rows(p, 'orders.shipments'))
    if (stopRoute.get(sh.stop_id as string) !== sh.route_id)
      problems.push(`shipment ${String(sh.id)}: stop of another route`);
  return problems;
}

function salesProblems(p: Loaded, shops: number, products: number, scale: number): string[] {
  const problems: string[] = [];
  const sales = rows(p, 'sales.sales_daily');
  const days = p.manifest.history_days;
  if (sales.length !== days * shops * products * scale)
    problems.push(`${sales.length} sales rows, expected ${days * shops * products * scale}`);
  const dates = sales.map((s) => s.sale_date as string).sort();
  if (dates[0] !== addDays(REF, -(days - 1)) || dates[dates.length - 1] !== REF)
    problems.push(`sales span ${dates[0]}..${dates[dates.length - 1]}`);
  const keys = new Set(
    sales.map((s) => `${String(s.sale_date)}/${String(s.location_id)}/${String(s.product_id)}/${String(s.channel)}`),
  );
  if (keys.size !== sales.length) problems.push('sales rows repeat a (day, location, product, channel)');
  return problems;
}

async function checkAll(p: Loaded): Promise<string[]> {
  return [
    ...structureProblems(p, await numericScales()),
    ...dateProblems(p),
    ...totalsProblems(p),
    ...ruleProblems(p),
    ...countProblems(p),
  ];
}

// ---------------------------------------------------------------- the tests

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'demo-seed-generate-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe.each(['professional', 'enterprise'] as const)('checked-in %s profile', (name) => {
  const dir = join(ROOT, 'seed-data', name);
  let p: Loaded;
  beforeAll(async () => {
    p = await loadProfile(dir);
  });

  it('is reproduced byte for byte by the arguments written in its manifest', async () => {
    const out = join(tmp, `regen-${name}`);
    const args = p.manifest.generator.args as unknown as Omit<GenerateOptions, 'out'>;
    expect(args.profile).toBe(name);
    expect(p.manifest.generator.command).toBe(`demo-seed generate --profile ${name} --seed 42 --out seed-data/${name}`);
    await generateProfile({ ...args, out });
    const expected = await listFiles(dir);
    expect(expected).toEqual([...p.manifest.files, 'manifest.json'].sort());
    expect(await listFiles(out)).toEqual(expected);
    for (const f of expected) {
      const same = (await readFile(join(out, f))).equals(await readFile(join(dir, f)));
      expect(same, f).toBe(true);
    }
  });

  it('has a manifest in the agreed shape', () => {
    const m = p.manifest;
    expect(Object.keys(m)).toEqual([
      'profile',
      'format_version',
      'description',
      'reference_date',
      'history_days',
      'tenants',
      'owner',
      'files',
      'counts',
      'generator',
    ]);
    expect(m).toMatchObject({ profile: name, format_version: 1, reference_date: REF, history_days: 90 });
    expect(m.tenants.map((t) => t.role)).toEqual(
      name === 'professional' ? ['main'] : ['parent', 'child', 'child', 'child'],
    );
    // The owner is a user of the main (first) tenant, with the role the manifest says.
    const owner = rows(p, 'auth.users').find((u) => u.id === m.owner?.user_id);
    expect(owner).toMatchObject({ tenant_id: m.tenants[0]?.id, role: 'owner' });
    expect(m.owner?.role).toBe('owner');
  });

  it('has records with exactly their columns, unique UUIDv4 ids and references that resolve', async () => {
    expect(structureProblems(p, await numericScales())).toEqual([]);
  });

  it('has manifest counts equal to its records and tables in catalog order', () => {
    expect(countProblems(p)).toEqual([]);
  });

  it('keeps history in the 90-day window and current rows after the reference day', () => {
    expect(dateProblems(p)).toEqual([]);
    const dates = rows(p, 'sales.sales_daily')
      .map((s) => s.sale_date as string)
      .sort();
    expect(dates[0]).toBe(addDays(REF, -89));
    expect(dates[dates.length - 1]).toBe(REF);
    const current = p.files
      .filter((f) => f.path.includes('current'))
      .flatMap((f) => f.tables.flatMap(([, list]) => list));
    expect(current.length).toBeGreaterThan(0);
    expect(rows(p, 'forecasting.forecasts').every((f) => (f.forecast_date as string) > REF)).toBe(true);
  });

  it('has order totals equal to the sum of their lines', () => {
    expect(totalsProblems(p)).toEqual([]);
  });

  it('keeps the business rules', () => {
    expect(ruleProblems(p)).toEqual([]);
  });

  it('has the size of its profile', () => {
    const n = (e: string) => rows(p, e).length;
    if (name === 'professional') {
      expect([
        n('tenant.tenants'),
        n('inventory.locations'),
        n('auth.users'),
        n('inventory.products'),
        n('recipes.recipes'),
        n('suppliers.suppliers'),
      ]).toEqual([1, 1, 4, 3, 3, 3]);
      expect(n('inventory.ingredients')).toBeGreaterThanOrEqual(8);
      expect(n('production.production_batches')).toBe(90 * 3 + 9);
      expect(salesProblems(p, 1, 3, 1)).toEqual([]);
    } else {
      expect([
        n('tenant.tenants'),
        n('inventory.locations'),
        n('auth.users'),
        n('inventory.products'),
        n('recipes.recipes'),
        n('suppliers.suppliers'),
      ]).toEqual([4, 4, 9, 3, 2, 3]);
      const [parent, ...children] = rows(p, 'tenant.tenants');
      expect(parent).toMatchObject({ business_type: 'central_production', parent_tenant_id: null });
      for (const c of children) expect(c.parent_tenant_id).toBe(parent?.id);
      const resale = rows(p, 'inventory.products').filter((x) => x.category === 'resale');
      expect(resale).toHaveLength(1);
      const produced = new Set(rows(p, 'production.production_batches').map((b) => b.product_id));
      expect(produced.size).toBe(2);
      expect(produced.has(resale[0]?.id)).toBe(false);
      expect(n('production.production_batches')).toBe(90 * 2 + 6);
      expect(salesProblems(p, 3, 3, 1)).toEqual([]);
      expect(p.manifest.files.filter((f) => f.startsWith('children/'))).toEqual([
        'children/outlet-1.json',
        'children/outlet-2.json',
        'children/outlet-3.json',
      ]);
    }
  });

  it('stays small', async () => {
    let bytes = 0;
    for (const f of p.manifest.files) bytes += (await readFile(join(dir, f))).length;
    expect(bytes).toBeLessThan(1_000_000);
  });
});

describe('checked-in enterprise distribution', () => {
  it('visits every outlet on every route day in the shortest stop order', async () => {
    const p = await loadProfile(join(ROOT, 'seed-data', 'enterprise'));
    expect(rows(p, 'orders.delivery_routes').length).toBe(14 + 3);
    expect(routeProblems(p)).toEqual([]);
  });
});

describe('generateProfile', () => {
  const digest = async (dir: string): Promise<string> => {
    const parts: string[] = [];
    for (const f of await listFiles(dir)) parts.push(f, await readFile(join(dir, f), 'utf8'));
    return parts.join('\0');
  };

  it('writes identical bytes for the same arguments and different data for another seed', async () => {
    const args = { profile: 'enterprise', seed: 7, days: 14, products: 2, outlets: 2 } as const;
    await generateProfile({ ...args, out: join(tmp, 'same-a') });
    await generateProfile({ ...args, out: join(tmp, 'same-b') });
    await generateProfile({ ...args, seed: 8, out: join(tmp, 'other-seed') });
    const a = await digest(join(tmp, 'same-a'));
    expect(await digest(join(tmp, 'same-b'))).toBe(a);
    expect(await digest(join(tmp, 'other-seed'))).not.toBe(a);
  });

  it.each([
    [
      'enterprise with 8 outlets (two routes a day), 5 products, 30 days',
      { profile: 'enterprise', seed: 3, days: 30, products: 5, outlets: 8 },
      8,
      5,
      1,
    ],
    [
      'enterprise with 1 outlet and 1 product, 7 days',
      { profile: 'enterprise', seed: 4, days: 7, products: 1, outlets: 1 },
      1,
      1,
      1,
    ],
    [
      'professional with 11 products over 7 days on 3 channels',
      { profile: 'professional', seed: 5, days: 7, products: 11, scale: 3 },
      1,
      11,
      3,
    ],
  ] as const)('writes a valid profile for %s', async (_, args, shops, products, scale) => {
    const out = join(tmp, `variant-${args.seed}`);
    const result = await generateProfile({ ...args, out });
    const p = await loadProfile(out);
    expect(result.files).toEqual(p.manifest.files);
    expect(result.counts).toEqual(p.manifest.counts);
    expect(await checkAll(p)).toEqual([]);
    expect(salesProblems(p, shops, products, scale)).toEqual([]);
    if (args.profile === 'enterprise') {
      expect(routeProblems(p)).toEqual([]);
      const perDay = rows(p, 'orders.delivery_routes').filter((r) => r.route_date === REF);
      expect(perDay).toHaveLength(Math.ceil(shops / 6));
    }
  });

  it('removes the data files an earlier run with other arguments left in the folder', async () => {
    const out = join(tmp, 'rerun');
    await generateProfile({ profile: 'enterprise', seed: 1, days: 7, outlets: 3, out });
    await writeFile(join(out, 'children', 'outlet-1-sales-historical.ndjson'), '{"table":"sales.sales_daily"}\n');
    await writeFile(join(out, 'notes.txt'), 'not generated');
    await generateProfile({ profile: 'enterprise', seed: 1, days: 7, outlets: 1, out });
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(await listFiles(out)).toEqual([...manifest.files, 'manifest.json', 'notes.txt'].sort());
  });

  it.each([
    [{ days: 6 }, '--days'],
    [{ days: 10.5 }, '--days'],
    [{ products: 0 }, '--products'],
    [{ scale: 0 }, '--scale'],
    [{ seed: -1 }, '--seed'],
    [{ outlets: 2 }, '--outlets'],
    [{ profile: 'enterprise', outlets: 0 }, '--outlets'],
    [{ profile: 'bakery' }, '--profile'],
    [{ out: '' }, '--out'],
  ] as Array<[Partial<GenerateOptions> | Record<string, unknown>, string]>)(
    'rejects %o naming %s',
    async (bad, option) => {
      const opts = { profile: 'professional', seed: 1, out: join(tmp, 'never'), ...bad } as GenerateOptions;
      const err = await generateProfile(opts).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GenerateOptionsError);
      expect((err as GenerateOptionsError).option).toBe(option);
      expect((err as Error).message).toContain(option);
    },
  );
});

describe('demo-seed generate', () => {
  const run = async (argv: string[]) => {
    const program = new Command('demo-seed').exitOverride();
    const errors: string[] = [];
    program.configureOutput({ writeErr: (s) => errors.push(s), writeOut: () => {} });
    registerGenerate(program);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await program.parseAsync(['node', 'demo-seed', 'generate', ...argv]);
      return { error: undefined, errors, lines: log.mock.calls.map((c) => String(c[0])) };
    } catch (error) {
      return { error, errors, lines: log.mock.calls.map((c) => String(c[0])) };
    } finally {
      log.mockRestore();
    }
  };

  it('prints a line per file and the total', async () => {
    const out = join(tmp, 'cli');
    const { error, lines } = await run([
      '--profile',
      'professional',
      '--seed',
      '9',
      '--days',
      '7',
      '--products',
      '1',
      '--out',
      out,
    ]);
    expect(error).toBeUndefined();
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(lines).toHaveLength(manifest.files.length + 1);
    expect(lines[0]).toMatch(/^00-tenant\.json\s+2 rows$/);
    const total = Object.values(manifest.counts)
      .flatMap((t) => Object.values(t))
      .reduce((a, b) => a + b, 0);
    expect(lines.at(-1)).toContain(`total: ${total} rows`);
    expect(manifest.generator.command).toBe(
      'demo-seed generate --profile professional --seed 9 --days 7 --products 1 --out seed-data/professional',
    );
  });

  it.each([
    [['--profile', 'professional', '--seed', '1', '--days', '3', '--out', 'x'], '--days'],
    [['--profile', 'professional', '--seed', 'abc', '--out', 'x'], '--seed'],
    [['--profile', 'enterprise', '--seed', '1', '--outlets', '0', '--out', 'x'], '--outlets'],
    [['--profile', 'shop', '--seed', '1', '--out', 'x'], '--profile'],
    [['--profile', 'professional', '--out', 'x'], '--seed'],
    [['--profile', 'professional', '--seed', '1', '--scale', '-2', '--out', 'x'], '--scale'],
  ])('exits with code 2 naming the option for %j', async (argv, option) => {
    const { error, errors } = await run(argv);
    expect(error).toBeInstanceOf(CommanderError);
    expect((error as CommanderError).exitCode).toBe(2);
    expect(errors.join('')).toContain(option);
  });
});
