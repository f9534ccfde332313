import type pg from 'pg';
import type { ApiClient } from './client.ts';
import type { cpuMeter, CpuSnapshot } from './cpu.ts';
import { ratePerSecond, summarize, type Summary } from './stats.ts';

/**
 * Throughput, closed loop: `concurrency` sessions in flight at a time, each slot
 * POSTing its next session as soon as the previous one is ready, until `sessions`
 * have been started or `maxMs` has passed (then the ones in flight finish).
 * Sessions per second = sessions ready / (first POST → last ready seen).
 */
export interface ThroughputLevel {
  readonly workers: number;
  readonly concurrency: number;
  readonly sessions: number;
  readonly elapsed_ms: number;
  /** Client: sessions ready per second, POST of the first → ready seen of the last. */
  readonly per_second: number;
  /** Server: sessions ready per second, first created_at → last ready_at, from the records. */
  readonly server_per_second: number;
  /** Client latency (POST → ready seen) of each session under this load. */
  readonly latency: Summary;
  /** CPU ms per session of the worker processes (together), the API process, the bench itself and the Redis server. */
  readonly cpu_ms_per_session: CpuSnapshot;
}

export async function measureLevel(
  client: ApiClient,
  db: pg.Pool,
  opts: { workers: number; concurrency: number; sessions: number; maxMs: number; profile: string },
  meter: ReturnType<typeof cpuMeter>,
): Promise<{ level: ThroughputLevel; ids: string[] }> {
  const ids: string[] = [];
  const cpu0 = await meter.snapshot();
  const latencies: number[] = [];
  const t0 = performance.now();
  const stopAt = t0 + opts.maxMs;
  let started = 0;
  let lastSeen = t0;
  const slot = async () => {
    while (started < opts.sessions && performance.now() < stopAt) {
      started++;
      const s = performance.now();
      const id = await client.create(opts.profile);
      ids.push(id);
      const seen = (await client.follow(id, 'ready')).at;
      latencies.push(seen - s);
      lastSeen = Math.max(lastSeen, seen);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, slot));
  const elapsed = lastSeen - t0;
  const cpu = meter.perEvent(cpu0, await meter.snapshot(), ids.length);
  const { rows } = await db.query<{ first: Date; last: Date }>(
    'SELECT min(created_at) AS first, max(ready_at) AS last FROM demo_sessions WHERE session_id = ANY($1::uuid[])',
    [ids],
  );
  const span = (rows[0]?.last.getTime() ?? 0) - (rows[0]?.first.getTime() ?? 0);
  return {
    ids,
    level: {
      workers: opts.workers,
      concurrency: opts.concurrency,
      sessions: ids.length,
      elapsed_ms: Math.round(elapsed),
      per_second: ratePerSecond(ids.length, elapsed),
      server_per_second: span > 0 ? ratePerSecond(ids.length, span) : 0,
      latency: summarize(latencies),
      cpu_ms_per_session: cpu,
    },
  };
}

export interface DestroyBatch {
  readonly sessions: number;
  readonly concurrency: number;
  readonly elapsed_ms: number;
  readonly per_second: number;
}

/** Destroys sessions `concurrency` at a time (DELETE, then its event stream ends with `destroyed`). */
export async function destroyAll(client: ApiClient, ids: readonly string[], concurrency = 8): Promise<DestroyBatch> {
  const queue = [...ids];
  const t0 = performance.now();
  const slot = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      await client.delete(id);
      await client.follow(id, 'destroyed');
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, slot));
  const elapsed = performance.now() - t0;
  return {
    sessions: ids.length,
    concurrency,
    elapsed_ms: Math.round(elapsed),
    per_second: ids.length > 0 ? ratePerSecond(ids.length, elapsed) : 0,
  };
}
