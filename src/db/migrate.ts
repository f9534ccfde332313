import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { DATABASE_KEYS, DEMO_SESSION_DB, type DatabaseKey } from '../catalog/services.ts';
import { databaseName, databaseUrl, type Config } from '../config/env.ts';
import type { Logger } from '../shared/logger.ts';
import { packageRoot } from '../shared/paths.ts';

export const MIGRATIONS_DIR = path.join(packageRoot(), 'migrations');

export interface Migration {
  /** `<folder>/<file>`, e.g. `inventory/001_init.sql`: the key recorded as applied. */
  readonly name: string;
  readonly sql: string;
}

/** Migrations of one database, in order: the shared ones first, then its own. */
export async function migrationsFor(key: DatabaseKey, dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const folders = key === DEMO_SESSION_DB ? [key] : ['common', key];
  const out: Migration[] = [];
  for (const folder of folders) {
    const files = (await readdir(path.join(dir, folder))).filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f)).sort();
    for (const file of files) {
      out.push({ name: `${folder}/${file}`, sql: await readFile(path.join(dir, folder, file), 'utf8') });
    }
  }
  return out;
}

/**
 * Creates every missing database and applies the migrations it lacks, each in its
 * own transaction under an advisory lock, so concurrent runs are safe and a second
 * run changes nothing. Returns the names of the migrations applied.
 */
export async function migrate(cfg: Config, log: Logger): Promise<string[]> {
  await createMissingDatabases(cfg, log);
  const applied = await Promise.all(DATABASE_KEYS.map((key) => migrateDatabase(cfg, key, log)));
  return applied.flat();
}

async function createMissingDatabases(cfg: Config, log: Logger): Promise<void> {
  const missing: DatabaseKey[] = [];
  const admin = new pg.Client({ connectionString: cfg.DATABASE_URL });
  await admin.connect();
  try {
    // Serialise CREATE DATABASE across concurrent migrate runs on one server.
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', ['demo-seed:create-databases']);
    for (const key of DATABASE_KEYS) {
      if (cfg[`${key.toUpperCase()}_DATABASE_URL` as keyof Config]) continue; // its own server: not ours to create
      const name = databaseName(cfg, key);
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (rowCount === 0) missing.push(key);
    }
    for (const key of missing) {
      // The name comes from the catalog and DB_NAME_PREFIX (validated as [a-z0-9_]), never from a request.
      await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(databaseName(cfg, key))}`);
      log.info({ database: databaseName(cfg, key) }, 'database created');
    }
  } finally {
    await admin.end().catch(() => undefined);
  }
}

async function migrateDatabase(cfg: Config, key: DatabaseKey, log: Logger): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl(cfg, key) });
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', ['demo-seed:migrate']);
    await client.query(`CREATE SCHEMA IF NOT EXISTS demo_seed;
      CREATE TABLE IF NOT EXISTS demo_seed.schema_migrations (
        name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set(
      (await client.query<{ name: string }>('SELECT name FROM demo_seed.schema_migrations')).rows.map((r) => r.name),
    );
    for (const m of await migrationsFor(key)) {
      if (done.has(m.name)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO demo_seed.schema_migrations (name) VALUES ($1)', [m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new Error(`migration ${m.name} failed on ${databaseName(cfg, key)}: ${(err as Error).message}`);
      }
      applied.push(`${databaseName(cfg, key)}:${m.name}`);
      log.info({ database: databaseName(cfg, key), migration: m.name }, 'migration applied');
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  return applied;
}

/**
 * Drops every database of `cfg` (tests and the benchmark use their own
 * DB_NAME_PREFIX). Side by side: each DROP DATABASE forces a checkpoint, and
 * concurrent ones share it (one at a time took 27 s on a busy machine).
 */
export async function dropDatabases(cfg: Config): Promise<void> {
  await Promise.all(
    DATABASE_KEYS.map(async (key) => {
      const admin = new pg.Client({ connectionString: cfg.DATABASE_URL });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(databaseName(cfg, key))} WITH (FORCE)`);
      } finally {
        await admin.end().catch(() => undefined);
      }
    }),
  );
}
