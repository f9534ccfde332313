import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Runtime } from '../src/runtime/runtime.ts';

/** What the figures were measured on. */
export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memory_gb: number;
  readonly node: string;
  readonly postgres: string;
  readonly redis: string;
  readonly os: string;
  /** The code measured: its git commit, and whether tracked files differed from it. */
  readonly code: string;
  /** Whether the loads skipped PostgreSQL's per-row foreign-key checks (LOAD_FK_CHECKS, and the role's right to). */
  readonly load_fk_checks?: 'skipped' | 'run';
  /** 1-minute load average when the run started and when it ended: a busy machine shows here. */
  readonly load_start: number;
  load_end?: number;
}

export async function describeMachine(rt: Runtime): Promise<Machine> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const { rows } = await rt.dbs.pool('demo_session').query<{ server_version: string }>('SHOW server_version');
  const info = await rt.redis.info('server');
  return {
    cpu,
    cores: os.availableParallelism(),
    memory_gb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: rows[0]?.server_version ?? 'unknown',
    redis: /^redis_version:(.+)$/m.exec(info)?.[1]?.trim() ?? 'unknown',
    os: `${os.type()} ${os.release()}`,
    code: describeCode(),
    load_fk_checks: (await rt.dbs.loadSkipsFkChecks('orchestrator')) ? 'skipped' : 'run',
    load_start: loadNow(),
  };
}

export function loadNow(): number {
  return Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
}

/** `<commit>`, `<commit> with uncommitted changes`, or why it is unknown. */
function describeCode(): string {
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: path.resolve(import.meta.dirname, '..'),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  try {
    const commit = git('rev-parse', '--short=12', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') === '' ? commit : `${commit} with uncommitted changes`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}
