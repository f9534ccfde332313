import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import type { Redis } from 'ioredis';

/**
 * CPU time spent by the processes a figure depends on, to turn "sessions per
 * second" into "CPU ms per session" (what a 2-core machine can afford: 2,000 ms of
 * CPU a second for every process together). Worker and API processes are read from
 * /proc/<pid>/stat; Redis from INFO cpu (the whole server, shared with anyone else using it).
 */
let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU ms of a process so far (NaN when it cannot be read). */
export async function processCpuMs(pid: number): Promise<number> {
  const { user, system } = await processCpuSplit(pid).catch(() => ({ user: NaN, system: NaN }));
  return user + system;
}

export async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const get = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return (get('used_cpu_user') + get('used_cpu_sys')) * 1000;
}

export type CpuSnapshot = Record<string, number>;

/** Takes a snapshot of CPU ms per named source; `perEvent` turns two of them into ms per event. */
export function cpuMeter(sources: Record<string, () => Promise<number>>) {
  return {
    async snapshot(): Promise<CpuSnapshot> {
      const entries = await Promise.all(
        Object.entries(sources).map(async ([k, f]) => [k, await f().catch(() => NaN)] as const),
      );
      return Object.fromEntries(entries);
    },
    perEvent(a: CpuSnapshot, b: CpuSnapshot, events: number): CpuSnapshot {
      return Object.fromEntries(
        Object.keys(a).map((k) => [k, Math.round((((b[k] ?? NaN) - (a[k] ?? NaN)) / Math.max(1, events)) * 10) / 10]),
      );
    },
  };
}

/**
 * CPU ms of the whole PostgreSQL server: every process named postgres (postmaster,
 * backends, background writers) plus what exited backends left in the postmaster's
 * children totals. The server is shared with anyone else using it, like Redis.
 */
export async function postgresCpuMs(): Promise<number> {
  let total = 0;
  let found = false;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    if (open < 0 || stat.slice(open + 1, close) !== 'postgres') continue;
    const f = stat.slice(close + 2).split(' ');
    found = true;
    // utime, stime, and cutime, cstime: what reaped children used, which only the postmaster has.
    total += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return found ? (total * 1000) / clockTicks() : NaN;
}

/** User and system CPU ms of a process, apart (system time is mostly socket reads and writes here). */
export async function processCpuSplit(pid: number): Promise<{ user: number; system: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(f[11]) * 1000) / clockTicks(), system: (Number(f[12]) * 1000) / clockTicks() };
}
