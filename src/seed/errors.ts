/** A problem in a seed-data profile: where it is and what is wrong. */
export interface Finding {
  readonly file: string;
  /** The record's id, or its index as `#n` when it has no id. */
  readonly record?: string;
  readonly field?: string;
  readonly message: string;
}

export function formatFinding(f: Finding): string {
  const where = [f.file, f.record && `record ${f.record}`, f.field && `field ${f.field}`].filter(Boolean).join(', ');
  return `${where}: ${f.message}`;
}

/** Bad seed data: retrying cannot help, so jobs fail at once with this message. */
export class SeedDataError extends Error {
  override name = 'SeedDataError';
  constructor(readonly findings: readonly Finding[]) {
    super(
      findings.length === 1
        ? formatFinding(findings[0] as Finding)
        : `${findings.length} problems in seed data:\n${findings
            .slice(0, 20)
            .map((f) => `  - ${formatFinding(f)}`)
            .join('\n')}`,
    );
  }
}
