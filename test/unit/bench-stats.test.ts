import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { breakdown, criticalPath, type SessionTiming } from '../../bench/breakdown.ts';
import { ticks } from '../../bench/chart.ts';
import { fastest } from '../../bench/closed-loop.ts';
import { SERVICES, SERVICE_SPECS, WAVES, waveOf, type ServiceName } from '../../src/catalog/services.ts';
import type { ServiceJobResult } from '../../src/flows/jobs.ts';
import { checks, limits } from '../../bench/report.ts';
import { cdf, judge, maxBy, medianIndex, percentile, ratePerSecond, speedUp, summarize } from '../../bench/stats.ts';

describe('percentile (linear between closest ranks, as numpy)', () => {
  it('matches numpy.percentile on small samples', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([1, 2, 3, 4], 0)).toBe(1);
    expect(percentile([1, 2, 3, 4], 100)).toBe(4);
    expect(percentile([15, 20, 35, 40, 50], 40)).toBeCloseTo(29, 10);
    expect(percentile([10], 99)).toBe(10);
    // numpy.percentile(range(1, 51), 99) == 49.51
    expect(
      percentile(
        Array.from({ length: 50 }, (_, i) => i + 1),
        99,
      ),
    ).toBeCloseTo(49.51, 10);
    expect(
      percentile(
        Array.from({ length: 50 }, (_, i) => i + 1),
        95,
      ),
    ).toBeCloseTo(47.55, 10);
  });

  it('does not depend on the order of the values', () => {
    expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
  });

  it('refuses no values, NaN and a p outside 0..100', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1, Number.NaN], 50)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], -1)).toThrow(RangeError);
  });

  it('lies between min and max and grows with p', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 60 }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (xs, p, q) => {
          const [lo, hi] = p <= q ? [p, q] : [q, p];
          const a = percentile(xs, lo);
          const b = percentile(xs, hi);
          expect(a).toBeGreaterThanOrEqual(Math.min(...xs));
          expect(b).toBeLessThanOrEqual(Math.max(...xs));
          expect(a).toBeLessThanOrEqual(b + 1e-9 * Math.max(1, Math.abs(b)));
        },
      ),
    );
  });
});

describe('summarize', () => {
  it('gives n, min, mean, p50, p95, p99 and max', () => {
    const s = summarize([5, 1, 3, 2, 4]);
    expect(s).toEqual({ n: 5, min: 1, mean: 3, p50: 3, p95: 4.8, p99: expect.closeTo(4.96, 10) as number, max: 5 });
  });
  it('refuses an empty sample', () => {
    expect(() => summarize([])).toThrow(RangeError);
  });
});

describe('rates', () => {
  it('counts events per second', () => {
    expect(ratePerSecond(50, 1000)).toBe(50);
    expect(ratePerSecond(1_000_000, 8_000)).toBe(125_000);
    expect(ratePerSecond(0, 10)).toBe(0);
  });
  it('refuses a zero or negative time and a negative count', () => {
    expect(() => ratePerSecond(1, 0)).toThrow(RangeError);
    expect(() => ratePerSecond(1, -5)).toThrow(RangeError);
    expect(() => ratePerSecond(-1, 5)).toThrow(RangeError);
  });
  it('gives the speed-up against a range of reference durations', () => {
    expect(speedUp(100, 8_000, 15_000)).toEqual([80, 150]);
    expect(() => speedUp(0, 1, 2)).toThrow(RangeError);
  });
});

describe('cdf and median', () => {
  it('steps 1/n per value, sorted', () => {
    expect(cdf([3, 1, 2, 4])).toEqual([
      { x: 1, y: 0.25 },
      { x: 2, y: 0.5 },
      { x: 3, y: 0.75 },
      { x: 4, y: 1 },
    ]);
  });
  it('finds the index of the median (the lower of an even count)', () => {
    expect(medianIndex([30, 10, 20])).toBe(2);
    expect(medianIndex([40, 10, 30, 20])).toBe(3);
    expect(medianIndex([7])).toBe(0);
    expect(() => medianIndex([])).toThrow(RangeError);
  });
});

describe('judge', () => {
  it('passes an upper bound at or below it and says by how much it is exceeded', () => {
    expect(judge(100, 100, 'max')).toEqual({ pass: true, by: 0, byPct: 0 });
    expect(judge(125, 100, 'max')).toEqual({ pass: false, by: 25, byPct: 25 });
  });
  it('passes a lower bound at or above it and says by how much it falls short', () => {
    expect(judge(50, 50, 'min').pass).toBe(true);
    expect(judge(40, 50, 'min')).toEqual({ pass: false, by: 10, byPct: 20 });
    expect(judge(0.6, 0.8, 'min').byPct).toBeCloseTo(25, 10);
  });
});

describe('chart ticks', () => {
  it('are round steps from 0 whose last is at least the maximum', () => {
    expect(ticks(157)).toEqual([0, 50, 100, 150, 200]);
    expect(ticks(100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(ticks(128, 8)).toEqual([0, 20, 40, 60, 80, 100, 120, 140]);
    expect(ticks(0)).toEqual([0, 1]);
  });
});

describe('bench levels', () => {
  it('picks the level with the most sessions per second, the first of equals', () => {
    const levels = [
      { c: 1, per_second: 3 },
      { c: 4, per_second: 9 },
      { c: 16, per_second: 9 },
      { c: 32, per_second: 7 },
    ];
    expect(fastest(levels).c).toBe(4);
    expect(() => fastest([])).toThrow('no level measured');
  });

  it('maxBy picks the highest value, the first of equals, and names what is missing', () => {
    const rounds = [
      { r: 1, rows_per_second: 90 },
      { r: 2, rows_per_second: 120 },
      { r: 3, rows_per_second: 120 },
    ];
    expect(maxBy(rounds, (x) => x.rows_per_second, 'bulk round').r).toBe(2);
    expect(maxBy(rounds, (x) => -x.rows_per_second, 'bulk round').r).toBe(1);
    expect(() => maxBy([], () => 0, 'bulk round')).toThrow('no bulk round measured');
  });
});

describe('bench report: what PostgreSQL and Redis allow', () => {
  const s = (p50: number) => ({ n: 60, min: p50, mean: p50, p50, p95: p50, p99: p50, max: p50 });
  const run = (perSecond: number) =>
    ({
      machine: { cores: 2 },
      latency: {
        summary: { professional: { client: s(90), server: s(80) }, enterprise: { client: s(100), server: s(90) } },
        destroy: s(50),
      },
      throughput: {
        best: {
          concurrency: 16,
          workers: 1,
          per_second: perSecond,
          cpu_ms_per_session: { workers: 50, api: 20, redis: 10, postgres: 45 },
        },
      },
      bulk: {
        ratio_vs_copy: 0.9,
        ratio_vs_insert: 1.35,
        psql_copy: { rows_per_second: 146_000 },
        insert_100: { rows_per_second: 100_000 },
        service: { rows: 1_000_080 },
        worker_rss: { vm_hwm_mb: 160 },
      },
      floor: { postgres_cpu_ms: 40, client_cpu_ms: 15, per_second: 45 },
      queue_floor: { process_cpu_ms: 3, redis_cpu_ms: 2 },
    }) as unknown as Parameters<typeof checks>[0];

  it('turns the measured CPU per session into the sessions per second each server allows', () => {
    const l = limits(run(14));
    expect(l.postgres).toBe(50);
    expect(l.redisMs).toBe(10);
    expect(l.both).toBe(40);
    // loads (40 + 15) and BullMQ alone (3 + 2): 60 ms → 33.3/s; the whole system used 125 ms
    expect(l.designMs).toBe(60);
    expect(l.design).toBeCloseTo(33.33, 2);
    expect(l.allMs).toBe(125);
    expect(l.copyOverInsert).toBeCloseTo(1.46, 10);
  });

  it('judges a figure as the tables print it', () => {
    // 89.35 is stored as 89.3499…: toFixed(1) gives 89.3, the tables (toLocaleString) 89.4.
    const r = run(14) as unknown as { latency: { summary: { professional: { client: ReturnType<typeof s> } } } };
    r.latency.summary.professional.client = s(89.35);
    const c = checks(r as unknown as Parameters<typeof checks>[0]).find(
      (x) => x.figure === 'professional latency p50, client',
    );
    expect(c?.value).toBe(89.4);
    expect(c?.pass).toBe(true);
  });

  it('names the bound beside a missed target, and only there', () => {
    const missed = checks(run(14));
    const tp = missed.find((c) => c.figure.startsWith('professional sessions/s'));
    expect(tp?.pass).toBe(false);
    expect(tp?.limit).toContain('≤ 50.0/s');
    expect(tp?.limit).toContain('≤ 40.0/s');
    expect(tp?.limit).toContain('reached at best 45.0/s');
    expect(tp?.limit).toContain('BullMQ alone (empty jobs) need 60.0 ms: ≤ 33.3/s');
    expect(tp?.limit).toContain('used 125.0 ms, 65.0 ms beyond that');
    expect(missed.find((c) => c.figure.includes('INSERT'))?.limit).toContain('1.46×');
    expect(missed.filter((c) => c.limit).length).toBe(2);

    const met = checks(run(55));
    const ok = met.find((c) => c.figure.startsWith('professional sessions/s'));
    expect(ok?.pass).toBe(true);
    expect(ok?.limit).toBeUndefined();
  });
});

describe('bench breakdown: the critical path of a session', () => {
  /** A session whose services each start some ms after their last dependency finished. */
  const sessionArb = fc
    .record({
      created: fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }),
      api: fc.integer({ min: 0, max: 50 }),
      markReady: fc.integer({ min: 0, max: 50 }),
      seen: fc.integer({ min: 0, max: 50 }),
      steps: fc.array(
        fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 60 })),
        { minLength: SERVICES.length, maxLength: SERVICES.length },
      ),
    })
    .map(({ created, api, markReady, seen, steps }) => {
      const services: Record<string, ServiceJobResult> = {};
      // WAVES order: every dependency is placed before its dependents.
      WAVES.flat().forEach((name) => {
        const [handoff, wait, work] = steps[SERVICES.indexOf(name)] as [number, number, number];
        const after = Math.max(
          created,
          ...SERVICE_SPECS[name].dependsOn.map((d) => (services[d] as ServiceJobResult).finished_at),
        );
        const queued = after + handoff;
        services[name] = {
          service: name,
          phase: SERVICE_SPECS[name].phase,
          wave: waveOf(name),
          rows: 1,
          tables: {},
          duration_ms: work,
          queued_at: queued,
          started_at: queued + wait,
          finished_at: queued + wait + work,
          published_at: queued + wait + work,
          attempts: 1,
          already_loaded: false,
        };
      });
      const readyAt = Math.max(...Object.values(services).map((s) => s.finished_at));
      const t: SessionTiming = {
        session_id: 's',
        created_at: created,
        ready_at: readyAt,
        marked_ready_at: readyAt + markReady,
        duration_ms: readyAt - created,
        services,
        phases: {},
        posted_at: created - api,
        seen_ready_at: readyAt + markReady + seen,
      };
      return t;
    });

  it('ends with the last service, each step a dependency of the next, from one without dependencies', () => {
    fc.assert(
      fc.property(sessionArb, (t) => {
        const path = criticalPath(t);
        expect(path.at(-1)!.finished_ms).toBe(t.ready_at - t.created_at);
        expect(SERVICE_SPECS[path[0]!.service as ServiceName].dependsOn).toEqual([]);
        for (let i = 1; i < path.length; i++) {
          const s = path[i]!.service as ServiceName;
          expect(SERVICE_SPECS[s].dependsOn).toContain(path[i - 1]!.service);
          // The dependency on the path is the one that finished last.
          for (const d of SERVICE_SPECS[s].dependsOn)
            expect((t.services[d] as ServiceJobResult).finished_at).toBeLessThanOrEqual(
              t.created_at + path[i - 1]!.finished_ms,
            );
        }
      }),
    );
  });

  it('has stages that add up to the client latency', () => {
    fc.assert(
      fc.property(sessionArb, (t) => {
        const b = breakdown([t]);
        expect(b.stages.reduce((n, s) => n + s.ms, 0)).toBe(t.seen_ready_at - t.posted_at);
        expect(b.stages.map((s) => s.ms).every((ms) => ms >= 0)).toBe(true);
      }),
    );
  });
});
