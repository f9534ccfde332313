import { cpuMeter } from './cpu.ts';
import { maxBy, ratePerSecond } from './stats.ts';

export interface ClosedLoopRun<K extends string> {
  readonly sessions: number;
  readonly concurrency: number;
  readonly elapsed_ms: number;
  readonly per_second: number;
  /** CPU ms per session of each source, to 0.1 ms. */
  readonly cpu_ms: Record<K, number>;
}

/**
 * Runs `one` `sessions` times, `concurrency` at a time (each slot starts the next as
 * soon as its last is done), and reads what each CPU source used meanwhile.
 */
export async function closedLoop<K extends string>(
  sessions: number,
  concurrency: number,
  one: () => Promise<void>,
  cpu: Record<K, () => Promise<number>>,
): Promise<ClosedLoopRun<K>> {
  const meter = cpuMeter(cpu);
  const before = await meter.snapshot();
  const t0 = performance.now();
  let started = 0;
  const slot = async () => {
    while (started < sessions) {
      started++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, slot));
  const elapsed = performance.now() - t0;
  const cpuMs = meter.perEvent(before, await meter.snapshot(), sessions) as Record<K, number>;
  return {
    sessions,
    concurrency,
    elapsed_ms: Math.round(elapsed),
    per_second: ratePerSecond(sessions, elapsed),
    cpu_ms: cpuMs,
  };
}

/** The level with the most sessions per second. */
export function fastest<T extends { readonly per_second: number }>(levels: readonly T[]): T {
  return maxBy(levels, (l) => l.per_second, 'level');
}
