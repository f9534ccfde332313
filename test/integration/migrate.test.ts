import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KEYS, SERVICES } from '../../src/catalog/services.ts';
import { TABLES } from '../../src/catalog/tables.ts';
import { databaseName } from '../../src/config/env.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { cli } from '../support/processes.ts';

const PG_TYPES: Record<string, string[]> = {
  id: ['uuid'],
  tenant: ['uuid'],
  ref: ['uuid'],
  date: ['date'],
  timestamp: ['timestamp with time zone'],
  text: ['text'],
  int: ['integer', 'bigint'],
  numeric: ['numeric'],
  bool: ['boolean'],
  json: ['jsonb'],
};

describe('migrations', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(); // creates the databases and applies every migration
  });
  afterAll(async () => {
    await h?.close();
  });

  it('created bakery_<service> for the 11 services and the demo-session database', async () => {
    const { rows } = await h.rt.dbs
      .pool('demo_session')
      .query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
        `${h.cfg.DB_NAME_PREFIX}%`,
      ]);
    expect(rows.map((r) => r.datname).sort()).toEqual(DATABASE_KEYS.map((k) => databaseName(h.cfg, k)).sort());
  });

  it('changes nothing when run again, also through the CLI', async () => {
    const schema = async () =>
      Promise.all(
        DATABASE_KEYS.map(
          async (k) =>
            (
              await h.rt.dbs
                .pool(k)
                .query(
                  `SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns WHERE table_schema IN ('public', 'demo_seed') ORDER BY 1, 2, 3`,
                )
            ).rows,
        ),
      );
    const before = await schema();
    expect(await migrate(h.cfg, createLogger('silent'))).toEqual([]);
    const run = await cli(['migrate'], h.env);
    expect(run.code).toBe(0);
    expect(run.output).toContain('databases up to date');
    expect(await schema()).toEqual(before);
  });

  it('gives every seeded table a uuid primary key and tenant_id uuid not null, indexed', async () => {
    for (const service of SERVICES) {
      const db = h.rt.dbs.pool(service);
      for (const table of TABLES[service]) {
        const cols = await db.query(
          `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`,
          [table.name],
        );
        const tenant = cols.rows.find((c) => c.column_name === 'tenant_id');
        expect(tenant, `${service}.${table.name}`).toMatchObject({ data_type: 'uuid', is_nullable: 'NO' });
        const pk = await db.query(
          `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::regclass AND i.indisprimary`,
          [table.name],
        );
        expect(
          pk.rows.map((r) => r.attname),
          `${service}.${table.name}`,
        ).toEqual(['id']);
        const idx = await db.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1`, [
          table.name,
        ]);
        expect(
          idx.rows.some((r) => /\(tenant_id[,)]/.test(r.indexdef)),
          `${service}.${table.name} tenant_id index`,
        ).toBe(true);
      }
    }
  });

  it('matches the catalog: every catalog column exists with a fitting type and nullability, and nothing more', async () => {
    for (const service of SERVICES) {
      const { rows } = await h.rt.dbs
        .pool(service)
        .query(
          `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public'`,
        );
      expect(new Set(rows.map((r) => r.table_name))).toEqual(new Set(TABLES[service].map((t) => t.name)));
      for (const table of TABLES[service]) {
        const dbCols = rows.filter((r) => r.table_name === table.name);
        expect(dbCols.map((c) => c.column_name).sort(), `${service}.${table.name}`).toEqual(
          Object.keys(table.columns).sort(),
        );
        for (const [name, spec] of Object.entries(table.columns)) {
          const c = dbCols.find((x) => x.column_name === name);
          expect(PG_TYPES[spec.kind], `${service}.${table.name}.${name}`).toContain(c.data_type);
          const nullable = 'nullable' in spec && spec.nullable === true;
          expect(c.is_nullable, `${service}.${table.name}.${name}`).toBe(nullable ? 'YES' : 'NO');
        }
      }
    }
  });

  it('keeps foreign keys inside each database, each indexed on the referencing side', async () => {
    let fks = 0;
    for (const service of SERVICES) {
      const { rows } = await h.rt.dbs.pool(service).query(`
        SELECT c.conrelid::regclass::text AS tbl, a.attname AS col,
               EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1]) AS indexed
        FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace`);
      for (const r of rows) expect(r.indexed, `${service}.${r.tbl}.${r.col}`).toBe(true);
      fks += rows.length;
    }
    expect(fks).toBeGreaterThan(10);
  });
});
