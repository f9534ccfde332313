import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tableSpec, type EntityName, type TableSpec } from '../../src/catalog/tables.ts';
import { decodeCopyRow } from '../support/copy-text.ts';
import { dateShifter } from '../../src/seed/dates.ts';
import { SeedDataError } from '../../src/seed/errors.ts';
import { idMapperFor } from '../../src/seed/ids.ts';
import { compileTable, type TransformContext } from '../../src/load/transform.ts';
import { pgText } from '../support/arbitraries.ts';

const session = randomUUID();
const tenant = randomUUID();
const product = randomUUID();
const location = randomUUID();
const mapId = idMapperFor(session);
const remote = new Map<EntityName, Map<string, string>>([
  ['inventory.products', new Map([[product, mapId(product)]])],
  ['inventory.locations', new Map([[location, mapId(location)]])],
]);
const ctx: TransformContext = {
  mapId,
  tenants: new Map([[tenant, mapId(tenant)]]),
  shift: dateShifter(10),
  resolve: (e, id) => remote.get(e)?.get(id),
};
const sales = tableSpec('sales', 'sales_daily') as TableSpec;
const sale = (over: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  tenant_id: tenant,
  location_id: location,
  product_id: product,
  sale_date: '2026-01-15',
  quantity_sold: 12,
  revenue: 30.5,
  waste_quantity: 0,
  channel: 'store',
  ...over,
});

describe('record transform', () => {
  it('gives a new id, the session tenant, rewritten references and moved dates', () => {
    const rec = sale();
    const collect = new Map<string, string>();
    const line = compileTable(sales, ctx, collect)(rec, 'f.json', 0);
    expect(decodeCopyRow(line)).toEqual([
      mapId(rec.id),
      mapId(tenant),
      mapId(location),
      mapId(product),
      '2026-01-25',
      '12',
      '30.5',
      '0',
      'store',
    ]);
    expect(collect.get(rec.id)).toBe(mapId(rec.id));
  });

  it('keeps any text exactly, through COPY escaping', () => {
    const spec = tableSpec('orders', 'customers') as TableSpec;
    fc.assert(
      fc.property(pgText(), (name) => {
        const rec = {
          id: randomUUID(),
          tenant_id: tenant,
          name,
          email: 'a@example.com',
          phone: '1',
          customer_type: 'retail',
          city: 'Madrid',
        };
        expect(decodeCopyRow(compileTable(spec, ctx)(rec, 'f.json', 0))[2]).toBe(name);
      }),
    );
  });

  it('writes null for a nullable column and refuses null elsewhere', () => {
    const spec = tableSpec('inventory', 'stock') as TableSpec;
    const rec = {
      id: randomUUID(),
      tenant_id: tenant,
      location_id: location,
      ingredient_id: null,
      product_id: product,
      quantity: 5,
      unit: 'kg',
      batch_code: 'B1',
      expiry_date: null,
      updated_at: '2026-01-15T08:00:00Z',
    };
    const fields = decodeCopyRow(compileTable(spec, ctx)(rec, 'f.json', 0));
    expect(fields[3]).toBeNull();
    expect(fields[8]).toBeNull();
    expect(fields[9]).toBe('2026-01-25T08:00:00Z');
    expect(() => compileTable(sales, ctx)(sale({ channel: null }), 'f.json', 0)).toThrow(/channel: must not be null/);
  });

  it('names the file, record and field of every problem', () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [sale({ product_id: randomUUID() }), 'product_id', /references inventory.products .* not in the profile/],
      [sale({ tenant_id: randomUUID() }), 'tenant_id', /not one of the profile's tenants/],
      [sale({ quantity_sold: 1.5 }), 'quantity_sold', /whole number/],
      [sale({ revenue: '30' }), 'revenue', /must be a number/],
      [sale({ sale_date: '15/01/2026' }), 'sale_date', /not a date/],
      [sale({ id: 'x' }), 'id', /not a uuid/],
      [sale({ extra: 1 }), 'extra', /not a column of sales.sales_daily/],
    ];
    for (const [rec, field, message] of cases) {
      let err: unknown;
      try {
        compileTable(sales, ctx)(rec, '10-sales.json', 3);
      } catch (e) {
        err = e;
      }
      expect(err, field).toBeInstanceOf(SeedDataError);
      const f = (err as SeedDataError).findings[0]!;
      expect(f).toMatchObject({ file: '10-sales.json', field });
      expect(f.record).toBe(rec.id);
      expect(f.message).toMatch(message);
    }
    const missing = sale();
    delete (missing as Record<string, unknown>).channel;
    expect(() => compileTable(sales, ctx)(missing, 'f.json', 0)).toThrow(/field channel: missing/);
  });
});
