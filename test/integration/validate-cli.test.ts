import { cp, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES } from '../../src/catalog/services.ts';
import { TABLES } from '../../src/catalog/tables.ts';
import { SeedDataError } from '../../src/seed/errors.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { cli } from '../support/processes.ts';
import { readManifest, SEED_DATA } from '../support/sessions.ts';

/** `demo-seed validate` as a real process, and `create` refusing a profile that fails it. */
const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent' };

let tmp: string;
/** A professional copy whose first recipe line names an ingredient that does not exist. */
let broken: { root: string; line: string; missing: string };

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'demo-seed-validate-cli-'));
  const root = path.join(tmp, 'broken');
  await cp(path.join(SEED_DATA, 'professional'), path.join(root, 'professional'), { recursive: true });
  const file = path.join(root, 'professional', '04-recipes.json');
  const doc = JSON.parse(await readFile(file, 'utf8')) as { tables: Record<string, Record<string, unknown>[]> };
  const line = doc.tables['recipes.recipe_ingredients']?.[0] as Record<string, unknown>;
  const missing = '7d3c7c1e-1b6a-4c55-9a51-6f0c9e0b2a11';
  line.ingredient_id = missing;
  await writeFile(file, JSON.stringify(doc));
  broken = { root, line: line.id as string, missing };
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('demo-seed validate', () => {
  it.each(['professional', 'enterprise'])('passes the checked-in %s profile with --strict', async (profile) => {
    const { code, output } = await cli(['validate', '--profile', profile, '--strict'], env);
    expect(code, output).toBe(0);
    expect(output).toContain('Status: PASSED');
    expect(output).toContain('Errors: 0');
    expect(output).toContain('Warnings: 0');
  });

  it('fails a broken copy (exit 1) and prints the finding on its own line', async () => {
    const { code, output } = await cli(['validate', '--profile', 'professional', '--data', broken.root], env);
    expect(code, output).toBe(1);
    const lines = output.trimEnd().split('\n');
    expect(lines).toContain(
      `ERROR 04-recipes.json record ${broken.line} field ingredient_id: references inventory.ingredients ${broken.missing}, which is not in the profile`,
    );
    expect(lines.slice(-3)).toEqual(['Status: FAILED', 'Errors: 1', 'Warnings: 0']);
  });

  it('--json prints the report as one JSON object on the last line', async () => {
    const { code, output } = await cli(['validate', '--profile', 'professional', '--data', broken.root, '--json'], env);
    expect(code, output).toBe(1);
    const report = JSON.parse(output.trimEnd().split('\n').at(-1) as string) as Record<string, unknown>;
    const manifest = await readManifest('professional', broken.root);
    expect(report).toMatchObject({
      profile: 'professional',
      status: 'FAILED',
      errors: [{ file: '04-recipes.json', record: broken.line, field: 'ingredient_id' }],
      warnings: [],
      stats: {
        files: manifest.files.length,
        records: Object.values(manifest.counts)
          .flatMap((t) => Object.values(t))
          .reduce((a, b) => a + b, 0),
        errors: 1,
        warnings: 0,
      },
    });

    const ok = await cli(['validate', '--profile', 'enterprise', '--json'], env);
    expect(ok.code, ok.output).toBe(0);
    expect(JSON.parse(ok.output.trimEnd().split('\n').at(-1) as string)).toMatchObject({
      profile: 'enterprise',
      status: 'PASSED',
      errors: [],
      warnings: [],
    });
  });

  it('an extra unlisted file is a warning: exit 0, but exit 1 with --strict', async () => {
    const root = path.join(tmp, 'extra');
    await cp(path.join(SEED_DATA, 'enterprise'), path.join(root, 'enterprise'), { recursive: true });
    await writeFile(
      path.join(root, 'enterprise', 'distribution', 'routes-draft.json'),
      '{"description": "draft", "tables": {}}',
    );
    const lax = await cli(['validate', '--profile', 'enterprise', '--data', root], env);
    expect(lax.code, lax.output).toBe(0);
    expect(lax.output).toContain('WARNING distribution/routes-draft.json: ');
    expect(lax.output).toContain('Warnings: 1');
    const strict = await cli(['validate', '--profile', 'enterprise', '--data', root, '--strict'], env);
    expect(strict.code, strict.output).toBe(1);
    expect(strict.output).toContain('Status: FAILED');
  });

  it('an unknown profile is a bad argument (exit 2) with a message naming the folder', async () => {
    const { code, output } = await cli(['validate', '--profile', 'bakery'], env);
    expect(code, output).toBe(2);
    expect(output).toContain(`profile "bakery" not found: no folder ${path.resolve('seed-data', 'bakery')}`);
    expect(output).toContain('profiles in ./seed-data: enterprise, professional');
    expect(output).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('a missing --profile is a bad argument (exit 2)', async () => {
    const { code, output } = await cli(['validate'], env);
    expect(code, output).toBe(2);
    expect(output).toContain("required option '--profile <name>' not specified");
  });
});

describe('create with a profile that fails validation', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const sessionsRows = async (): Promise<number> => {
    const { rows } = await h.rt.dbs
      .pool('demo_session')
      .query<{ n: string }>('SELECT count(*) AS n FROM demo_sessions');
    return Number(rows[0]?.n);
  };
  /** Rows of every seeded table of the 11 databases (the harness's databases are this file's own). */
  const serviceRows = async (): Promise<number> => {
    let n = 0;
    for (const service of SERVICES) {
      for (const table of TABLES[service]) {
        const { rows } = await h.rt.dbs.pool(service).query<{ n: string }>(`SELECT count(*) AS n FROM "${table.name}"`);
        n += Number(rows[0]?.n);
      }
    }
    return n;
  };

  it('fails before any row is written, with the validator findings', async () => {
    const err = await h.rt.producer.create({ profile: 'professional', dataDir: broken.root }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SeedDataError);
    expect((err as SeedDataError).findings).toEqual([
      {
        file: '04-recipes.json',
        record: broken.line,
        field: 'ingredient_id',
        message: `references inventory.ingredients ${broken.missing}, which is not in the profile`,
      },
    ]);
    expect((err as Error).message).toContain(`04-recipes.json, record ${broken.line}, field ingredient_id`);
    expect(await sessionsRows()).toBe(0);
    expect(await serviceRows()).toBe(0);

    // The same profile version is refused again from the cached report.
    await expect(h.rt.producer.create({ profile: 'professional', dataDir: broken.root })).rejects.toBeInstanceOf(
      SeedDataError,
    );
    expect(await sessionsRows()).toBe(0);
  });

  it('accepts the profile once it is fixed and its manifest changes (a new profile version)', async () => {
    const root = path.join(tmp, 'fixed');
    await cp(broken.root, root, { recursive: true });
    await cp(
      path.join(SEED_DATA, 'professional', '04-recipes.json'),
      path.join(root, 'professional', '04-recipes.json'),
    );
    await expect(h.rt.producer.create({ profile: 'professional', dataDir: root })).resolves.toMatchObject({
      status: 'pending',
    });
    // Broken again, without touching the manifest: the cached report (same version) still passes it...
    await cp(
      path.join(broken.root, 'professional', '04-recipes.json'),
      path.join(root, 'professional', '04-recipes.json'),
    );
    await expect(h.rt.producer.create({ profile: 'professional', dataDir: root })).resolves.toMatchObject({
      status: 'pending',
    });
    // ...and a new manifest version is validated again (the manifest is looked at once a second at most).
    const later = new Date(Date.now() + 60_000);
    await utimes(path.join(root, 'professional', 'manifest.json'), later, later);
    await new Promise((r) => setTimeout(r, 1100));
    await expect(h.rt.producer.create({ profile: 'professional', dataDir: root })).rejects.toBeInstanceOf(
      SeedDataError,
    );
    expect(await sessionsRows()).toBe(2);
  });

  it('an unknown profile is refused as bad seed data, naming the folder', async () => {
    const err = await h.rt.producer.create({ profile: 'bakery', dataDir: tmp }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SeedDataError);
    expect((err as Error).message).toContain(path.join(tmp, 'bakery'));
    expect(await sessionsRows()).toBe(2);
  });
});
