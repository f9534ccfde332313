import { join } from 'node:path';
import { CATALOG_TABLES } from './records.ts';
import { entityOf, type EntityName } from '../../catalog/tables.ts';
import { REFERENCE_DATE } from './time.ts';
import { commandLine, resolveOptions, type GenerateOptions, type ResolvedArgs } from './options.ts';
import { planProfessional } from './professional.ts';
import { planEnterprise } from './enterprise.ts';
import { removeStale, writeDataFile, writeJson } from './writer.ts';
import { GENERATED_FILE, type ProfilePlan } from './profile.ts';

export { GenerateOptionsError, resolveOptions, DEFAULTS, LIMITS, PROFILES } from './options.ts';
export type { GenerateOptions, ProfileName, ResolvedArgs } from './options.ts';

export const FORMAT_VERSION = 1;

export interface GenerateResult {
  /** Data files written, relative to `out`, in load order (the manifest is not listed). */
  files: string[];
  /** Records per service and table, in catalog order, as in the manifest. */
  counts: Record<string, Record<string, number>>;
  /** Records per data file, in the order of `files`. */
  fileRows: Array<{ path: string; rows: number }>;
}

export function planProfile(args: ResolvedArgs): ProfilePlan {
  return args.profile === 'professional' ? planProfessional(args) : planEnterprise(args);
}

/**
 * Writes a seed-data profile to `opts.out`: its data files (streamed) and then
 * its manifest. Same arguments give identical bytes; bad arguments throw a
 * GenerateOptionsError naming the option.
 */
export async function generateProfile(opts: GenerateOptions): Promise<GenerateResult> {
  const args = resolveOptions(opts);
  const plan = planProfile(args);
  const totals = new Map<EntityName, number>();
  const fileRows: GenerateResult['fileRows'] = [];
  for (const file of plan.files) {
    const written = await writeDataFile(opts.out, file);
    for (const [entity, n] of written.counts) totals.set(entity, (totals.get(entity) ?? 0) + n);
    fileRows.push({ path: written.path, rows: written.rows });
  }
  const counts: Record<string, Record<string, number>> = {};
  for (const table of CATALOG_TABLES) {
    const n = totals.get(entityOf(table));
    if (!n) continue;
    (counts[table.service] ??= {})[table.name] = n;
  }
  const files = plan.files.map((f) => f.path);
  await writeJson(join(opts.out, 'manifest.json'), {
    profile: args.profile,
    format_version: FORMAT_VERSION,
    description: plan.description,
    reference_date: REFERENCE_DATE,
    history_days: args.days,
    tenants: plan.tenants,
    owner: plan.owner,
    files,
    counts,
    generator: { command: commandLine(args), args },
  });
  await removeStale(opts.out, new Set(files), GENERATED_FILE);
  return { files, counts, fileRows };
}
