import { join } from 'node:path';
import type { Command } from 'commander';
import {
  DEFAULTS,
  GenerateOptionsError,
  PROFILES,
  generateProfile,
  resolveOptions,
  type GenerateOptions,
  type ProfileName,
} from '../../seed-tools/generate/index.ts';

interface RawOptions {
  profile?: string;
  seed?: string;
  days?: string;
  outlets?: string;
  products?: string;
  scale?: string;
  out?: string;
  data?: string;
}

/** `demo-seed generate`: writes a seed-data profile from its parameters and a random seed. */
export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('write a seed-data profile (data files and manifest.json) from parameters and a random seed')
    .option('--profile <p>', `profile to generate: ${PROFILES.join(' or ')}`)
    .option('--seed <n>', 'random seed, a whole number from 0 to 4294967295')
    .option('--days <d>', `days of history, at least 7 (default ${DEFAULTS.days})`)
    .option('--outlets <k>', `retail outlets, enterprise only (default ${DEFAULTS.outlets})`)
    .option('--products <m>', `products in the catalog (default ${DEFAULTS.products})`)
    .option('--scale <s>', `multiplies the sales rows by recording sales on s channels (default ${DEFAULTS.scale})`)
    .option('--out <dir>', 'folder to write the profile to (default <data>/<profile>)')
    .option('--data <dir>', 'seed-data root used when --out is not given', './seed-data')
    .action(async (raw: RawOptions) => {
      const fail = (message: string): never =>
        program.error(`error: ${message}`, { exitCode: 2, code: 'demo-seed.invalidArgument' });
      const opts = parseOptions(raw, fail);
      try {
        resolveOptions(opts);
      } catch (err) {
        if (err instanceof GenerateOptionsError) fail(err.message);
        throw err;
      }
      const started = Date.now();
      const result = await generateProfile(opts);
      const width = Math.max(...result.fileRows.map((f) => f.path.length), 13);
      let total = 0;
      for (const { path, rows } of result.fileRows) {
        total += rows;
        console.log(`${path.padEnd(width)} ${String(rows).padStart(10)} rows`);
      }
      console.log(
        `total: ${total} rows in ${result.fileRows.length} files (+ manifest.json) written to ${opts.out} in ${Date.now() - started} ms`,
      );
    });
}

const WHOLE = /^\d+$/;

function parseOptions(raw: RawOptions, fail: (message: string) => never): GenerateOptions {
  if (raw.profile === undefined) fail(`required option '--profile <p>' not specified (${PROFILES.join(' or ')})`);
  if (!(PROFILES as readonly string[]).includes(raw.profile as string)) {
    fail(`option '--profile <p>' must be ${PROFILES.join(' or ')}, got "${raw.profile}"`);
  }
  if (raw.seed === undefined) fail("required option '--seed <n>' not specified");
  const whole = (name: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    if (!WHOLE.test(value.trim()) || !Number.isSafeInteger(Number(value))) {
      fail(`option '--${name}' must be a whole number, got "${value}"`);
    }
    return Number(value);
  };
  const profile = raw.profile as ProfileName;
  const opts: GenerateOptions = {
    profile,
    seed: whole('seed', raw.seed) as number,
    out: raw.out ?? join(raw.data ?? './seed-data', profile),
  };
  const days = whole('days', raw.days);
  const outlets = whole('outlets', raw.outlets);
  const products = whole('products', raw.products);
  const scale = whole('scale', raw.scale);
  if (days !== undefined) opts.days = days;
  if (outlets !== undefined) opts.outlets = outlets;
  if (products !== undefined) opts.products = products;
  if (scale !== undefined) opts.scale = scale;
  return opts;
}
