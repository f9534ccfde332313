import { randomUUID } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  passes,
  UnknownProfileError,
  validateProfile,
  type ValidationReport,
} from '../../src/seed-tools/validate/index.ts';
import type { Finding } from '../../src/seed/errors.ts';
import { readManifest, SEED_DATA } from '../support/sessions.ts';

/**
 * The validator against the checked-in profiles and against copies with exactly
 * one thing broken: each case expects exactly that finding (file, record, field).
 */
const SEED = SEED_DATA;
/** Records a profile's manifest counts, over all its tables. */
const recordsOf = async (profile: string) =>
  Object.values((await readManifest(profile)).counts)
    .flatMap((t) => Object.values(t))
    .reduce((a, b) => a + b, 0);

type Rec = Record<string, unknown>;
interface Doc {
  description: string;
  tables: Record<string, Rec[]>;
}
interface ManifestDoc {
  files: string[];
  counts: Record<string, Record<string, number>>;
  [k: string]: unknown;
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'demo-seed-validate-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A fresh copy of a checked-in profile, with helpers to edit it. */
async function copy(profile: 'professional' | 'enterprise') {
  const root = await mkdtemp(path.join(tmp, `${profile}-`));
  const dir = path.join(root, profile);
  await cp(path.join(SEED, profile), dir, { recursive: true });
  const read = async (file: string): Promise<Doc> => JSON.parse(await readFile(path.join(dir, file), 'utf8')) as Doc;
  const write = async (file: string, doc: unknown): Promise<void> =>
    writeFile(path.join(dir, file), JSON.stringify(doc, null, 1));
  return {
    root,
    dir,
    read,
    write,
    /** Edits a data file's records of one table. */
    async edit(file: string, table: string, fn: (records: Rec[]) => void): Promise<void> {
      const doc = await read(file);
      fn(doc.tables[table] as Rec[]);
      await write(file, doc);
    },
    async manifest(fn: (m: ManifestDoc) => void): Promise<void> {
      const m = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as ManifestDoc;
      fn(m);
      await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(m, null, 2));
    },
    validate: (): Promise<ValidationReport> => validateProfile(root, profile),
  };
}

/** Exactly one error, at that place. */
function expectOneError(report: ValidationReport, where: Partial<Finding>, message?: RegExp): Finding {
  expect(report.status).toBe('FAILED');
  expect(report.errors, JSON.stringify(report.errors, null, 1)).toHaveLength(1);
  expect(report.warnings).toEqual([]);
  const f = report.errors[0] as Finding;
  expect(f).toMatchObject(where);
  if (message) expect(f.message).toMatch(message);
  expect(passes(report)).toBe(false);
  return f;
}

const addDays = (day: string, n: number): string =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
const v4 = (): string => randomUUID();

describe('the checked-in profiles', () => {
  it.each(['professional', 'enterprise'])('%s passes strictly: no errors, no warnings', async (profile) => {
    const report = await validateProfile(SEED, profile);
    expect(report.errors).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report).toMatchObject({ profile, status: 'PASSED' });
    const manifest = await readManifest(profile);
    expect(report.stats.files).toBe(manifest.files.length);
    expect(report.stats.records).toBe(await recordsOf(profile));
    expect(passes(report, true)).toBe(true);
  });

  it('an unknown profile folder is an UnknownProfileError naming the folder', async () => {
    const err = await validateProfile(SEED, 'bakery').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownProfileError);
    expect((err as Error).message).toContain(path.join(SEED, 'bakery'));
    await expect(validateProfile(SEED, '../seed-data')).rejects.toBeInstanceOf(UnknownProfileError);
  });
});

describe('structure', () => {
  it('a missing column', async () => {
    const p = await copy('professional');
    let id = '';
    await p.edit('04-recipes.json', 'recipes.recipe_ingredients', (rs) => {
      delete (rs[2] as Rec).unit;
      id = (rs[2] as Rec).id as string;
    });
    expectOneError(await p.validate(), { file: '04-recipes.json', record: id, field: 'unit' }, /missing/);
  });

  it('an extra column', async () => {
    const p = await copy('professional');
    let id = '';
    await p.edit('02-inventory.json', 'inventory.products', (rs) => {
      (rs[0] as Rec).colour = 'golden';
      id = (rs[0] as Rec).id as string;
    });
    expectOneError(
      await p.validate(),
      { file: '02-inventory.json', record: id, field: 'colour' },
      /not a column of inventory.products/,
    );
  });

  it('null in a NOT NULL column', async () => {
    const p = await copy('professional');
    let id = '';
    await p.edit('04-recipes.json', 'recipes.recipes', (rs) => {
      (rs[1] as Rec).instructions = null;
      id = (rs[1] as Rec).id as string;
    });
    expectOneError(
      await p.validate(),
      { file: '04-recipes.json', record: id, field: 'instructions' },
      /must not be null/,
    );
  });

  it('the wrong JSON type for the column kind (and no other rule reports it again)', async () => {
    const p = await copy('professional');
    let id = '';
    await p.edit('04-recipes.json', 'recipes.recipe_ingredients', (rs) => {
      (rs[0] as Rec).quantity = '0.5';
      id = (rs[0] as Rec).id as string;
    });
    expectOneError(await p.validate(), { file: '04-recipes.json', record: id, field: 'quantity' }, /must be a number/);
  });

  it('an unknown table', async () => {
    const p = await copy('professional');
    const doc = await p.read('04-recipes.json');
    doc.tables['recipes.steps'] = [];
    await p.write('04-recipes.json', doc);
    expectOneError(
      await p.validate(),
      { file: '04-recipes.json', field: 'tables.recipes.steps' },
      /not a table of the catalog/,
    );
  });
});

describe('referential integrity', () => {
  it('a ref to a missing ingredient', async () => {
    const p = await copy('professional');
    let id = '';
    const missing = v4();
    await p.edit('04-recipes.json', 'recipes.recipe_ingredients', (rs) => {
      (rs[0] as Rec).ingredient_id = missing;
      id = (rs[0] as Rec).id as string;
    });
    const f = expectOneError(await p.validate(), { file: '04-recipes.json', record: id, field: 'ingredient_id' });
    expect(f.message).toBe(`references inventory.ingredients ${missing}, which is not in the profile`);
  });

  it('a ref to a record of another entity', async () => {
    const p = await copy('professional');
    const product = ((await p.read('02-inventory.json')).tables['inventory.products']?.[0] as Rec).id as string;
    let id = '';
    await p.edit('04-recipes.json', 'recipes.recipe_ingredients', (rs) => {
      (rs[0] as Rec).ingredient_id = product;
      id = (rs[0] as Rec).id as string;
    });
    expectOneError(
      await p.validate(),
      { file: '04-recipes.json', record: id, field: 'ingredient_id' },
      /that id is a inventory.products record/,
    );
  });

  it('a tenant that is not one of the manifest tenants', async () => {
    const p = await copy('professional');
    let id = '';
    await p.edit('01-users.json', 'auth.users', (rs) => {
      (rs[1] as Rec).tenant_id = v4();
      id = (rs[1] as Rec).id as string;
    });
    expectOneError(
      await p.validate(),
      { file: '01-users.json', record: id, field: 'tenant_id' },
      /not one of the profile's tenants/,
    );
  });

  it("a child tenant whose parent is not the manifest's parent (enterprise)", async () => {
    const p = await copy('enterprise');
    const other = ((await p.read('children/outlet-2.json')).tables['tenant.tenants']?.[0] as Rec).id as string;
    let id = '';
    await p.edit('children/outlet-1.json', 'tenant.tenants', (rs) => {
      (rs[0] as Rec).parent_tenant_id = other;
      id = (rs[0] as Rec).id as string;
    });
    expectOneError(
      await p.validate(),
      { file: 'children/outlet-1.json', record: id, field: 'parent_tenant_id' },
      /manifest's parent tenant/,
    );
  });

  it('a supplier price list naming an ingredient SKU that does not exist', async () => {
    const p = await copy('professional');
    let id = '';
    await p.edit('03-suppliers.json', 'suppliers.supplier_price_lists', (rs) => {
      (rs[0] as Rec).ingredient_sku = 'ING-999';
      id = (rs[0] as Rec).id as string;
    });
    expectOneError(await p.validate(), { file: '03-suppliers.json', record: id, field: 'ingredient_sku' }, /ING-999/);
  });
});

describe('id format', () => {
  it('a duplicated id names both places (referenceable and not)', async () => {
    const p = await copy('professional');
    const product = ((await p.read('02-inventory.json')).tables['inventory.products']?.[1] as Rec).id as string;
    await p.edit('13-forecasting.json', 'forecasting.forecasts', (rs) => {
      (rs[0] as Rec).id = product;
    });
    expectOneError(
      await p.validate(),
      { file: '13-forecasting.json', record: product, field: 'id' },
      /duplicate id: also the id of a inventory.products record \(#1 of "inventory.products" in 02-inventory.json\)/,
    );
  });

  it('a duplicated id among records nothing references (found on a second look)', async () => {
    const p = await copy('professional');
    let first = '';
    await p.edit('10-sales-historical.json', 'sales.sales_daily', (rs) => {
      first = (rs[3] as Rec).id as string;
      (rs[200] as Rec).id = first;
    });
    const report = await p.validate();
    expectOneError(
      report,
      { file: '10-sales-historical.json', record: first, field: 'id' },
      /#3 of "sales.sales_daily" in 10-sales-historical.json/,
    );
  });

  it('two ids that differ only in their first half (a session would give them one new id)', async () => {
    const p = await copy('professional');
    const products = (await p.read('02-inventory.json')).tables['inventory.products'] as Rec[];
    const product = (products[1] as Rec).id as string;
    // Another first half (but for the version digit), the same last 16 hex digits.
    const clash = `${flipHex(product.slice(0, 14))}4${flipHex(product.slice(15, 18))}${product.slice(18)}`;
    await p.edit('13-forecasting.json', 'forecasting.forecasts', (rs) => {
      (rs[0] as Rec).id = clash;
    });
    expectOneError(
      await p.validate(),
      { file: '13-forecasting.json', record: clash, field: 'id' },
      new RegExp(
        `id ends like ${product.toLowerCase()}, the id of a inventory.products record \\(#1 of "inventory.products" in 02-inventory.json\\): ids must differ in their last 16 hex digits`,
      ),
    );
  });

  it('two sales ids that differ only in their first half (found on a second look)', async () => {
    const p = await copy('professional');
    let first = '';
    let clash = '';
    await p.edit('10-sales-historical.json', 'sales.sales_daily', (rs) => {
      first = (rs[3] as Rec).id as string;
      clash = `${flipHex(first.slice(0, 8))}${first.slice(8)}`;
      (rs[200] as Rec).id = clash;
    });
    expectOneError(
      await p.validate(),
      { file: '10-sales-historical.json', record: clash, field: 'id' },
      /ends like .*#3 of "sales.sales_daily" in 10-sales-historical.json.*last 16 hex digits/,
    );
  });

  it('an id that is not a UUIDv4', async () => {
    const p = await copy('professional');
    let id = '';
    await p.edit('10-sales-historical.json', 'sales.sales_daily', (rs) => {
      const r = rs[7] as Rec;
      id = `${(r.id as string).slice(0, 14)}1${(r.id as string).slice(15)}`; // version 1
      r.id = id;
    });
    expectOneError(await p.validate(), { file: '10-sales-historical.json', record: id, field: 'id' }, /not a UUIDv4/);
  });
});

describe('temporal', () => {
  it('a sale dated before the history window', async () => {
    const p = await copy('professional');
    let id = '';
    await p.edit('10-sales-historical.json', 'sales.sales_daily', (rs) => {
      (rs[0] as Rec).sale_date = '2025-10-17'; // the window is 2025-10-18..2026-01-15
      id = (rs[0] as Rec).id as string;
    });
    expectOneError(
      await p.validate(),
      { file: '10-sales-historical.json', record: id, field: 'sale_date' },
      /before the history window 2025-10-18\.\.2026-01-15/,
    );
  });

  it('a sale dated after the reference day', async () => {
    const p = await copy('professional');
    let id = '';
    await p.edit('10-sales-historical.json', 'sales.sales_daily', (rs) => {
      (rs[5] as Rec).sale_date = '2026-01-16';
      id = (rs[5] as Rec).id as string;
    });
    expectOneError(
      await p.validate(),
      { file: '10-sales-historical.json', record: id, field: 'sale_date' },
      /after the reference day/,
    );
  });

  it('a date that does not parse', async () => {
    const p = await copy('professional');
    let id = '';
    await p.edit('03-suppliers.json', 'suppliers.supplier_price_lists', (rs) => {
      (rs[0] as Rec).valid_from = '2025-11-31';
      id = (rs[0] as Rec).id as string;
    });
    expectOneError(
      await p.validate(),
      { file: '03-suppliers.json', record: id, field: 'valid_from' },
      /not a calendar date/,
    );
  });

  it('a forecast more than 14 days ahead', async () => {
    const p = await copy('professional');
    let id = '';
    await p.edit('13-forecasting.json', 'forecasting.forecasts', (rs) => {
      (rs[0] as Rec).forecast_date = '2026-01-30';
      id = (rs[0] as Rec).id as string;
    });
    expectOneError(
      await p.validate(),
      { file: '13-forecasting.json', record: id, field: 'forecast_date' },
      /more than 14 days after/,
    );
  });

  it('planned_end before planned_start', async () => {
    const p = await copy('professional');
    let id = '';
    await p.edit('07-production-current.json', 'production.production_batches', (rs) => {
      const b = rs[0] as Rec;
      b.planned_end = `${(b.planned_start as string).slice(0, 11)}01:00:00Z`;
      id = b.id as string;
    });
    expectOneError(
      await p.validate(),
      { file: '07-production-current.json', record: id, field: 'planned_end' },
      /planned_end must be after planned_start/,
    );
  });

  it('a delivery before its order', async () => {
    const p = await copy('professional');
    let id = '';
    await p.edit('11-orders.json', 'orders.customer_orders', (rs) => {
      const o = rs.find((r) => (r.order_date as string) > '2025-11-01') as Rec;
      o.delivery_date = addDays(o.order_date as string, -1);
      id = o.id as string;
    });
    expectOneError(
      await p.validate(),
      { file: '11-orders.json', record: id, field: 'delivery_date' },
      /delivered on or after its order_date/,
    );
  });

  it('a purchase order expected before it was ordered', async () => {
    const p = await copy('professional');
    let id = '';
    await p.edit('09-procurement-current.json', 'procurement.purchase_orders', (rs) => {
      const o = rs[0] as Rec;
      o.expected_delivery_date = addDays(o.order_date as string, -1);
      id = o.id as string;
    });
    expectOneError(
      await p.validate(),
      { file: '09-procurement-current.json', record: id, field: 'expected_delivery_date' },
      /expected on or after its order_date/,
    );
  });
});

describe('business rules', () => {
  it('a negative quantity', async () => {
    const p = await copy('professional');
    let id = '';
    await p.edit('02-inventory.json', 'inventory.stock', (rs) => {
      (rs[0] as Rec).quantity = -2;
      id = (rs[0] as Rec).id as string;
    });
    expectOneError(
      await p.validate(),
      { file: '02-inventory.json', record: id, field: 'quantity' },
      /must be >= 0, got -2/,
    );
  });

  it('an order total off by 0.01', async () => {
    const p = await copy('professional');
    let id = '';
    await p.edit('08-procurement-historical.json', 'procurement.purchase_orders', (rs) => {
      const o = rs[4] as Rec;
      o.total_amount = (Math.round((o.total_amount as number) * 100) + 1) / 100;
      id = o.id as string;
    });
    expectOneError(
      await p.validate(),
      { file: '08-procurement-historical.json', record: id, field: 'total_amount' },
      /is not the sum of its \d+ procurement.purchase_order_items line_total values/,
    );
  });

  it('a line total that is not round(quantity × unit_price, 2), order total adjusted', async () => {
    const p = await copy('professional');
    let id = '';
    const doc = await p.read('11-orders.json');
    const line = doc.tables['orders.customer_order_items']?.[0] as Rec;
    const order = doc.tables['orders.customer_orders']?.find((o) => o.id === line.order_id) as Rec;
    line.line_total = (Math.round((line.line_total as number) * 100) + 1) / 100;
    order.total_amount = (Math.round((order.total_amount as number) * 100) + 1) / 100;
    id = line.id as string;
    await p.write('11-orders.json', doc);
    expectOneError(
      await p.validate(),
      { file: '11-orders.json', record: id, field: 'line_total' },
      /is not round\(quantity × unit_price, 2\)/,
    );
  });

  it('a zero recipe yield', async () => {
    const p = await copy('professional');
    let id = '';
    await p.edit('04-recipes.json', 'recipes.recipes', (rs) => {
      (rs[0] as Rec).yield_quantity = 0;
      id = (rs[0] as Rec).id as string;
    });
    expectOneError(
      await p.validate(),
      { file: '04-recipes.json', record: id, field: 'yield_quantity' },
      /must be > 0, got 0/,
    );
  });

  it('forecast bounds out of order', async () => {
    const p = await copy('professional');
    let id = '';
    await p.edit('13-forecasting.json', 'forecasting.forecasts', (rs) => {
      const f = rs[3] as Rec;
      f.predicted_quantity = (f.upper_bound as number) + 1;
      id = f.id as string;
    });
    expectOneError(
      await p.validate(),
      { file: '13-forecasting.json', record: id, field: 'predicted_quantity' },
      /between lower_bound/,
    );
  });

  it('a stock row with both an ingredient and a product', async () => {
    const p = await copy('professional');
    const product = ((await p.read('02-inventory.json')).tables['inventory.products']?.[0] as Rec).id as string;
    let id = '';
    await p.edit('02-inventory.json', 'inventory.stock', (rs) => {
      const s = rs.find((r) => r.ingredient_id !== null) as Rec;
      s.product_id = product;
      id = s.id as string;
    });
    expectOneError(
      await p.validate(),
      { file: '02-inventory.json', record: id, field: 'ingredient_id' },
      /exactly one of ingredient_id \/ product_id, this one both/,
    );
  });

  it('an outlet that is a stop on no route (enterprise)', async () => {
    const p = await copy('enterprise');
    const id = v4();
    await p.edit('children/outlet-3.json', 'inventory.locations', (rs) => {
      rs.push({ ...(rs[0] as Rec), id, name: 'Forn del Barri Sant Andreu - Kiosk' });
    });
    await p.manifest((m) => {
      (m.counts.inventory as Record<string, number>).locations! += 1;
    });
    expectOneError(
      await p.validate(),
      { file: 'children/outlet-3.json', record: id, field: 'id' },
      /is a stop on no delivery route/,
    );
  });

  it('a produced product without a recipe (enterprise resale product put into production)', async () => {
    const p = await copy('enterprise');
    const resale = (await p.read('parent/02-inventory.json')).tables['inventory.products']?.find(
      (x) => x.category === 'resale',
    ) as Rec;
    let id = '';
    await p.edit('parent/07-production-current.json', 'production.production_batches', (rs) => {
      (rs[1] as Rec).product_id = resale.id;
      id = (rs[1] as Rec).id as string;
    });
    expectOneError(
      await p.validate(),
      { file: 'parent/07-production-current.json', record: id, field: 'product_id' },
      /is produced \(1 production_batches\) but has no recipe/,
    );
  });

  it('a product that has no recipe and is never produced is a warning: it fails only with strict', async () => {
    const p = await copy('professional');
    const id = v4();
    await p.edit('02-inventory.json', 'inventory.products', (rs) => {
      rs.push({ ...(rs[0] as Rec), id, sku: 'PRD-099', name: 'Pan de muestra' });
    });
    await p.manifest((m) => {
      (m.counts.inventory as Record<string, number>).products! += 1;
    });
    const report = await p.validate();
    expect(report.errors).toEqual([]);
    expect(report.status).toBe('PASSED');
    expect(report.warnings).toEqual([expect.objectContaining({ file: '02-inventory.json', record: id, field: 'id' })]);
    expect(passes(report)).toBe(true);
    expect(passes(report, true)).toBe(false);
  });

  it("an orchestration run whose batches_planned is not its actions' count", async () => {
    const p = await copy('professional');
    let id = '';
    await p.edit('12-orchestration.json', 'orchestrator.orchestration_runs', (rs) => {
      (rs[10] as Rec).batches_planned = ((rs[10] as Rec).batches_planned as number) + 1;
      id = (rs[10] as Rec).id as string;
    });
    expectOneError(await p.validate(), { file: '12-orchestration.json', record: id, field: 'batches_planned' });
  });
});

describe('manifest agreement', () => {
  it('a manifest count off by one', async () => {
    const p = await copy('professional');
    const n = (await readManifest('professional')).counts.sales!.sales_daily!;
    await p.manifest((m) => {
      (m.counts.sales as Record<string, number>).sales_daily! += 1;
    });
    expectOneError(
      await p.validate(),
      { file: 'manifest.json', field: 'counts.sales.sales_daily' },
      new RegExp(`says ${n + 1} records, but the profile has ${n}`),
    );
  });

  it('a table with records but no count', async () => {
    const p = await copy('professional');
    const n = (await readManifest('professional')).counts.forecasting!.forecasts!;
    await p.manifest((m) => {
      delete (m.counts.forecasting as Record<string, number>).forecasts;
    });
    expectOneError(
      await p.validate(),
      { file: 'manifest.json', field: 'counts.forecasting.forecasts' },
      new RegExp(`missing: the profile has ${n} records`),
    );
  });

  it('a listed file that is missing', async () => {
    const p = await copy('professional');
    await rm(path.join(p.dir, '13-forecasting.json'));
    const report = await p.validate();
    expect(report.status).toBe('FAILED');
    // manifest.json's findings come first: the counts of the missing file's tables have no records
    expect(report.errors.map((f) => `${f.file} ${f.field ?? ''}`)).toEqual([
      'manifest.json counts.forecasting.forecast_models',
      'manifest.json counts.forecasting.forecasts',
      '13-forecasting.json ',
    ]);
    expect(report.errors[2]).toEqual({ file: '13-forecasting.json', message: 'listed in manifest.json but missing' });
    await p.manifest((m) => {
      delete m.counts.forecasting;
    });
    expectOneError(await p.validate(), { file: '13-forecasting.json' }, /listed in manifest.json but missing/);
  });

  it('an unlisted extra data file is a warning that fails only with strict', async () => {
    const p = await copy('enterprise');
    await mkdir(path.join(p.dir, 'extra'));
    await cp(path.join(p.dir, 'parent', '13-forecasting.json'), path.join(p.dir, 'extra', 'forecasting-v2.json'));
    const report = await p.validate();
    expect(report.status).toBe('PASSED');
    expect(report.errors).toEqual([]);
    expect(report.warnings).toEqual([expect.objectContaining({ file: 'extra/forecasting-v2.json' })]);
    expect(report.warnings[0]?.message).toMatch(/does not list/);
    expect(passes(report)).toBe(true);
    expect(passes(report, true)).toBe(false);
  });

  it('a manifest that is not valid JSON fails with one finding', async () => {
    const p = await copy('professional');
    await writeFile(path.join(p.dir, 'manifest.json'), '{"profile": ');
    expectOneError(await p.validate(), { file: 'manifest.json' }, /invalid JSON/);
  });
});

describe('NDJSON sales history', () => {
  /** The professional copy with its sales history moved to an .ndjson file, as the generator writes large ones. */
  async function ndjsonCopy() {
    const p = await copy('professional');
    const sales = (await p.read('10-sales-historical.json')).tables['sales.sales_daily'] as Rec[];
    await rm(path.join(p.dir, '10-sales-historical.json'));
    const lines = (rs: Rec[]) =>
      `${[JSON.stringify({ table: 'sales.sales_daily' }), ...rs.map((r) => JSON.stringify(r))].join('\n')}\n`;
    await writeFile(path.join(p.dir, '10-sales-historical.ndjson'), lines(sales));
    await p.manifest((m) => {
      m.files = m.files.map((f) => (f === '10-sales-historical.json' ? '10-sales-historical.ndjson' : f));
    });
    return {
      ...p,
      sales,
      rewrite: (rs: Rec[]) => writeFile(path.join(p.dir, '10-sales-historical.ndjson'), lines(rs)),
    };
  }

  it('passes when well formed', async () => {
    const p = await ndjsonCopy();
    const report = await p.validate();
    expect(report.errors).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.stats.records).toBe(await recordsOf('professional'));
  });

  it('names records by line: a duplicated id and a ref to a missing product', async () => {
    const p = await ndjsonCopy();
    (p.sales[9] as Rec).id = (p.sales[2] as Rec).id; // line 11 repeats line 4
    await p.rewrite(p.sales);
    expectOneError(
      await p.validate(),
      { file: '10-sales-historical.ndjson', record: 'line 11', field: 'id' },
      /line 4 of 10-sales-historical.ndjson/,
    );

    const q = await ndjsonCopy();
    (q.sales[0] as Rec).product_id = v4();
    await q.rewrite(q.sales);
    expectOneError(
      await q.validate(),
      { file: '10-sales-historical.ndjson', record: 'line 2', field: 'product_id' },
      /references inventory.products/,
    );
  });

  it('reports a line that is not JSON and goes on', async () => {
    const p = await ndjsonCopy();
    await p.rewrite(p.sales);
    const text = await readFile(path.join(p.dir, '10-sales-historical.ndjson'), 'utf8');
    const lines = text.split('\n');
    lines[5] = lines[5]!.slice(0, 40); // line 6
    await writeFile(path.join(p.dir, '10-sales-historical.ndjson'), lines.join('\n'));
    const report = await p.validate();
    // the line is not a record, so the manifest's count is one more than the records found
    expect(report.errors).toEqual([
      expect.objectContaining({ file: 'manifest.json', field: 'counts.sales.sales_daily' }),
      expect.objectContaining({ file: '10-sales-historical.ndjson', record: 'line 6' }),
    ]);
    expect(report.errors[1]?.message).toMatch(/invalid JSON/);
  });
});

/** Every hex digit of `s` replaced by another (dashes kept). */
function flipHex(s: string): string {
  return s.replace(/[0-9a-f]/gi, (c) => (parseInt(c, 16) ^ 5).toString(16));
}
