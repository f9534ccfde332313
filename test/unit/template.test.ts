import { randomUUID } from 'node:crypto';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WAVES } from '../../src/catalog/services.ts';
import {
  consumedEntities,
  publishedEntities,
  tableSpec,
  type EntityName,
  type TableSpec,
} from '../../src/catalog/tables.ts';
import { dateShifter } from '../../src/seed/dates.ts';
import { idMapperFor } from '../../src/seed/ids.ts';
import { loadProfile, serviceTables, type SeedRecord } from '../../src/seed/profile.ts';
import { transformContext } from '../../src/load/session-context.ts';
import { compileTemplate, fillTemplate, hasIdentities } from '../../src/load/template.ts';
import { compileTable, type TransformContext } from '../../src/load/transform.ts';
import { pgText } from '../support/arbitraries.ts';

// A table's template, filled for a session, must be byte for byte what the record
// encoder gives for that session, and give the same new ids to the ID maps.
const stock = tableSpec('inventory', 'stock') as TableSpec;
const tenants = [randomUUID(), randomUUID().toUpperCase()];
const locations = [randomUUID(), randomUUID()];
const products = [randomUUID(), randomUUID().toUpperCase()];

function context(
  session: string,
  days: number,
  known: { locations: readonly string[]; products: readonly string[] },
): TransformContext {
  const mapId = idMapperFor(session);
  const remote = new Map<EntityName, Map<string, string>>([
    ['inventory.locations', new Map(known.locations.map((id) => [id, mapId(id)]))],
    ['inventory.products', new Map(known.products.map((id) => [id, mapId(id)]))],
    ['inventory.ingredients', new Map()],
  ]);
  return {
    mapId,
    tenants: new Map(tenants.map((t) => [t, mapId(t)])),
    shift: dateShifter(days),
    resolve: (e, id) => remote.get(e)?.get(id),
  };
}

const day = fc.date({
  min: new Date('1990-01-01T00:00:00Z'),
  max: new Date('2090-12-31T00:00:00Z'),
  noInvalidDate: true,
});
const stockRecord = fc.record({
  id: fc.uuid({ version: [1, 2, 3, 4, 5, 6, 7, 8] }).map((u) => (u.charCodeAt(0) % 2 ? u.toUpperCase() : u)),
  tenant_id: fc.constantFrom(...tenants),
  location_id: fc.constantFrom(...locations),
  ingredient_id: fc.constant(null),
  product_id: fc.option(fc.constantFrom(...products)),
  quantity: fc.double({ noNaN: true, noDefaultInfinity: true }),
  unit: pgText(),
  batch_code: pgText(),
  expiry_date: fc.option(day.map((d) => d.toISOString().slice(0, 10))),
  updated_at: day.map((d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')),
});

function expected(
  spec: TableSpec,
  records: readonly SeedRecord[],
  ctx: TransformContext,
  collect?: Map<string, string>,
): Buffer {
  const encode = compileTable(spec, ctx, collect);
  return Buffer.from(records.map((r, i) => encode(r, 'f.json', i)).join(''));
}

describe('table templates', () => {
  it('fill to the record encoder’s bytes and ids, for any records, session and shift', () => {
    fc.assert(
      fc.property(
        fc.array(stockRecord, { maxLength: 30 }),
        fc.uuid({ version: 4 }),
        fc.integer({ min: -3000, max: 3000 }),
        (records, session, days) => {
          const template = compileTemplate(stock, records, tenants);
          expect(template).toBeDefined();
          const ctx = context(session, days, { locations, products });
          const mine = new Map<string, string>();
          const theirs = new Map<string, string>();
          const filled = fillTemplate(template!, ctx, mine);
          expect(filled?.toString()).toBe(expected(stock, records, ctx, theirs).toString());
          expect(filled?.equals(expected(stock, records, ctx))).toBe(true);
          expect([...mine]).toEqual([...theirs]);
        },
      ),
    );
  });

  it('can be filled again and again: the template itself does not change', () => {
    const records = fc.sample(stockRecord, 20);
    const template = compileTemplate(stock, records, tenants)!;
    const before = Buffer.from(template.bytes);
    const a = fillTemplate(template, context(randomUUID(), 3, { locations, products }))!;
    fillTemplate(template, context(randomUUID(), -40, { locations, products }));
    expect(template.bytes.equals(before)).toBe(true);
    expect(a.equals(template.bytes)).toBe(false);
  });

  it('gives up, so the record encoder reports it, on a reference missing from the ID maps or a day moved past year 9999', () => {
    const records = fc.sample(stockRecord, 10).map((r) => ({ ...r, product_id: products[0] as string }));
    const template = compileTemplate(stock, records, tenants)!;
    const ctx = context(randomUUID(), 0, { locations, products: [] });
    expect(fillTemplate(template, ctx)).toBeUndefined();
    expect(() => expected(stock, records, ctx)).toThrow(/references inventory.products .* not in the profile/);
    const late = [{ ...records[0]!, updated_at: '9999-12-30T10:00:00Z' }];
    const far = context(randomUUID(), 5, { locations, products });
    expect(fillTemplate(compileTemplate(stock, late, tenants)!, far)).toBeUndefined();
    expect(() => expected(stock, late, far)).toThrow(/field updated_at: day \d+ is outside the years 0000-9999/);
  });

  it('is not made for a table with a record the encoder refuses', () => {
    const rec = fc.sample(stockRecord, 1)[0] as SeedRecord;
    for (const bad of [
      { quantity: 1 / 0 },
      { unit: 7 },
      { tenant_id: randomUUID() },
      { updated_at: '2026-02-30T00:00:00Z' },
      { id: 'x' },
      { extra: 1 },
    ]) {
      expect(compileTemplate(stock, [rec, { ...rec, ...bad }], tenants), JSON.stringify(bad)).toBeUndefined();
    }
  });

  it.each(['professional', 'enterprise'])(
    'load the %s profile as the record encoder does, ID maps passed from service to service',
    async (name) => {
      const profile = await loadProfile(path.resolve('seed-data'), name);
      const session = randomUUID();
      const published = new Map<EntityName, Map<string, string>>();
      let tables = 0;
      for (const service of WAVES.flat()) {
        const remote = new Map(
          consumedEntities(service).map((e) => [e, published.get(e) ?? new Map<string, string>()]),
        );
        const mine = transformContext(profile, session, '2026-11-25T10:00:00Z', service, remote);
        const theirs = transformContext(profile, session, '2026-11-25T10:00:00Z', service, remote);
        for (const { spec, segments } of serviceTables(profile, service)) {
          const records = segments.flatMap((s) => (s.kind === 'json' ? s.records : []));
          const entity: EntityName = `${service}.${spec.name}`;
          const template = compileTemplate(
            spec,
            records,
            profile.manifest.tenants.map((t) => t.id),
          );
          if (hasIdentities(spec)) {
            // Emails, slugs, codes: per-session values of other lengths, encoded record by record.
            expect(template, entity).toBeUndefined();
            const a = expected(spec, records, mine.ctx, mine.local.get(entity));
            expect(a.equals(expected(spec, records, theirs.ctx, theirs.local.get(entity))), entity).toBe(true);
            tables++;
            continue;
          }
          const filled = fillTemplate(template!, mine.ctx, mine.local.get(entity));
          expect(filled?.equals(expected(spec, records, theirs.ctx, theirs.local.get(entity))), entity).toBe(true);
          tables++;
        }
        expect([...mine.local]).toEqual([...theirs.local]);
        for (const e of publishedEntities(service)) published.set(e, mine.local.get(e) ?? new Map());
      }
      expect(tables).toBeGreaterThan(20);
    },
  );
});
