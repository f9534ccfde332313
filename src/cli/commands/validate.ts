import type { Command } from 'commander';
import { loadConfig } from '../../config/env.ts';
import type { Finding } from '../../seed/errors.ts';
import { listProfiles } from '../../seed/profile.ts';
import {
  passes,
  UnknownProfileError,
  validateProfile,
  type ValidationReport,
} from '../../seed-tools/validate/index.ts';

interface Options {
  profile: string;
  strict?: boolean;
  json?: boolean;
  data?: string;
}

/**
 * `demo-seed validate --profile P [--strict] [--json] [--data DIR]`: checks a
 * seed-data profile and prints every finding, then `Status:`, `Errors:` and
 * `Warnings:`. Exit 0 only when it passes (errors fail it; with --strict warnings
 * too), 1 when it does not, 2 for bad arguments (such as an unknown profile).
 */
export function registerValidate(program: Command): void {
  const command = program
    .command('validate')
    .description('check a seed-data profile: structure, references, ids, dates, business rules, manifest')
    .requiredOption('--profile <name>', 'profile folder under the seed-data root, e.g. professional or enterprise')
    .option('--strict', 'fail on warnings too')
    .option('--json', 'print the report as one JSON object on the last line')
    .option('--data <dir>', 'seed-data root (default: SEED_DATA_DIR, ./seed-data)')
    .action(async (o: Options) => {
      const dataDir = o.data ?? loadConfig().SEED_DATA_DIR;
      let report: ValidationReport;
      try {
        report = await validateProfile(dataDir, o.profile);
      } catch (err) {
        if (err instanceof UnknownProfileError) {
          const known = listProfiles(dataDir);
          const hint =
            known.length > 0
              ? `; profiles in ${dataDir}: ${known.join(', ')}`
              : `; ${dataDir} holds no profile folders`;
          command.error(`error: ${err.reason} (--profile ${o.profile}, --data ${dataDir})${hint}`, {
            exitCode: 2,
            code: 'demo-seed.invalidArgument',
          });
        }
        throw err;
      }
      const ok = passes(report, o.strict === true);
      const status = ok ? 'PASSED' : 'FAILED';
      const lines = [
        `Profile: ${report.profile} (${report.stats.files} files, ${report.stats.records} records)${o.strict ? ', strict' : ''}`,
      ];
      for (const f of report.errors) lines.push(formatLine('ERROR', f));
      if (report.stats.errors > report.errors.length)
        lines.push(`... and ${report.stats.errors - report.errors.length} more errors`);
      for (const f of report.warnings) lines.push(formatLine('WARNING', f));
      if (report.stats.warnings > report.warnings.length)
        lines.push(`... and ${report.stats.warnings - report.warnings.length} more warnings`);
      lines.push(`Status: ${status}`, `Errors: ${report.stats.errors}`, `Warnings: ${report.stats.warnings}`);
      // With --strict a report with only warnings fails: the JSON says so too.
      if (o.json) lines.push(JSON.stringify({ ...report, status, strict: o.strict === true }));
      process.stdout.write(`${lines.join('\n')}\n`);
      process.exitCode = ok ? 0 : 1;
    });
}

/** `ERROR 04-recipes.json record <id> field ingredient_id: <message>` */
export function formatLine(severity: 'ERROR' | 'WARNING', f: Finding): string {
  return (
    [severity, f.file, f.record !== undefined && `record ${f.record}`, f.field !== undefined && `field ${f.field}`]
      .filter(Boolean)
      .join(' ') + `: ${f.message}`
  );
}
