import { UnrecoverableError } from 'bullmq';
import { ConfigError } from '../config/env.ts';
import { QueueUnavailableError } from '../sessions/errors.ts';
import { formatFinding, SeedDataError } from '../seed/errors.ts';
import { UnknownSessionError } from '../sessions/destroy-session.ts';

/** A message and exit code for any error a command can meet: no stack traces for users. */
export function describeError(err: unknown): { message: string; exitCode: number } {
  if (err instanceof ConfigError) return { message: err.message, exitCode: 2 };
  if (err instanceof SeedDataError) {
    return {
      message: `seed data rejected:\n${err.findings.map((f) => `  - ${formatFinding(f)}`).join('\n')}`,
      exitCode: 1,
    };
  }
  if (err instanceof UnknownSessionError) return { message: err.message, exitCode: 1 };
  if (err instanceof QueueUnavailableError || err instanceof UnrecoverableError)
    return { message: err.message, exitCode: 1 };
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.code === 'ECONNREFUSED')
    return {
      message: `cannot connect to ${e.address ?? '?'}:${e.port ?? '?'} (is PostgreSQL/Redis running?)`,
      exitCode: 1,
    };
  if (e?.code === '3D000') return { message: `${e.message}: run \`demo-seed migrate\` first`, exitCode: 1 };
  if (e?.code === '42P01')
    return { message: `${e.message}: the schema is missing, run \`demo-seed migrate\` first`, exitCode: 1 };
  return { message: e instanceof Error ? e.message : String(err), exitCode: 1 };
}
