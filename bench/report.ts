import type { Breakdown, SessionTiming } from './breakdown.ts';
import type { BulkResult } from './bulk.ts';
import type { LatencyResult, LatencySample } from './latency.ts';
import type { Machine } from './machine.ts';
import { judge, speedUp, type Summary } from './stats.ts';
import type { PostgresFloor } from './floor.ts';
import type { QueueFloor } from './queue-floor.ts';
import type { DestroyBatch, ThroughputLevel } from './throughput.ts';

/** The result of one run: written to bench/results/<date>.json and printed with --json. */
export interface BenchResult {
  readonly version: 1;
  readonly mode: 'quick' | 'full';
  readonly started_at: string;
  finished_at: string;
  duration_s: number;
  readonly machine: Machine;
  readonly method: string[];
  readonly latency: Omit<LatencyResult, 'timings'> & { samples: LatencySample[] };
  readonly throughput: { levels: ThroughputLevel[]; best: ThroughputLevel; destroy_batches: DestroyBatch[] };
  readonly bulk: BulkResult;
  readonly floor: PostgresFloor;
  /** BullMQ with the session's flow and empty jobs (bench/queue-floor.ts). */
  readonly queue_floor: QueueFloor;
  readonly breakdown: Breakdown;
  /** The raw record of the session the breakdown and the Gantt show. */
  readonly timeline: SessionTiming;
  checks: Check[];
  files?: { json: string; svg: string };
}

export interface Check {
  readonly figure: string;
  readonly value: number;
  readonly unit: string;
  readonly target: string;
  /** null: a figure printed for information, with no target. */
  readonly pass: boolean | null;
  readonly note: string;
  /** For a miss: what PostgreSQL or Redis themselves allow, measured in the same run. */
  readonly limit?: string;
}

const ORIGIN_MS = [8_000, 15_000] as const;

export function checks(r: Omit<BenchResult, 'checks'>): Check[] {
  const out: Check[] = [];
  const add = (
    figure: string,
    raw: number,
    unit: string,
    target: number,
    kind: 'max' | 'min',
    fmt: (v: number) => string = (v) => fix(v),
  ) => {
    // Judged as printed (the same rounding as every table), so "183.5 ms, over by 83.5 ms" adds up.
    const value = Number(fix(raw, unit === '×' ? 2 : 1).replace(/,/g, ''));
    const v = judge(value, target, kind);
    out.push({
      figure,
      value,
      unit,
      target: `${kind === 'max' ? '≤' : '≥'} ${fmt(target)} ${unit}`.trim(),
      pass: v.pass,
      note: v.pass ? '' : `${kind === 'max' ? 'over' : 'short'} by ${fmt(v.by)} ${unit} (${fix(v.byPct, 0)}%)`,
    });
  };
  const { professional: pro, enterprise: ent } = r.latency.summary;
  add('professional latency p50, client', pro.client.p50, 'ms', 100, 'max');
  add('professional latency p50, server', pro.server.p50, 'ms', 100, 'max');
  add('professional latency p99, client', pro.client.p99, 'ms', 250, 'max');
  add('professional latency p99, server', pro.server.p99, 'ms', 250, 'max');
  add('enterprise latency p50, client', ent.client.p50, 'ms', 250, 'max');
  add('enterprise latency p50, server', ent.server.p50, 'ms', 250, 'max');
  const b = r.throughput.best;
  add(
    `professional sessions/s, best (c=${b.concurrency}, ${b.workers} worker${b.workers > 1 ? 's' : ''})`,
    b.per_second,
    '/s',
    50,
    'min',
  );
  const lim = limits(r);
  if (out.at(-1)?.pass === false) {
    explain(
      out,
      `the loads alone (no queue, Redis or API) reached at best ${fix(r.floor.per_second)}/s here; PostgreSQL alone needs ${fix(r.floor.postgres_cpu_ms)} CPU ms a session: ≤ ${fix(lim.postgres)}/s; with Redis's ${fix(lim.redisMs)} ms, ≤ ${fix(lim.both)}/s; ` +
        `the loads and BullMQ alone (empty jobs) need ${fix(lim.designMs)} ms: ≤ ${fix(lim.design)}/s; the best level used ${fix(lim.allMs)} ms, ${fix(lim.allMs - lim.designMs)} ms beyond that (API, event streams, ID maps and progress, the session record, and processes waking each other)`,
    );
  }
  add('bulk load ÷ psql \\copy rate', r.bulk.ratio_vs_copy, '×', 0.8, 'min', (v) => fix(v, 2));
  add('bulk load ÷ 100-row INSERT rate', r.bulk.ratio_vs_insert, '×', 3, 'min', (v) => fix(v, 2));
  if (out.at(-1)?.pass === false)
    explain(out, `psql \\copy itself is only ${fix(lim.copyOverInsert, 2)}× the INSERT rate here`);
  add(
    `sales worker peak RSS (VmHWM), ${r.bulk.service.rows.toLocaleString('en')} rows`,
    r.bulk.worker_rss.vm_hwm_mb,
    'MB',
    200,
    'max',
  );
  add('destroy p50 (DELETE → destroyed), client', r.latency.destroy.p50, 'ms', 200, 'max');
  const [lo, hi] = speedUp(pro.client.p50, ...ORIGIN_MS);
  out.push({
    figure: 'speed-up vs origin (8,000-15,000 ms), prof. p50 client',
    value: lo,
    unit: '×',
    target: 'info',
    pass: null,
    note: `${fix(lo, 0)}×-${fix(hi, 0)}× faster`,
  });
  return out;
}

/** What PostgreSQL and Redis themselves allow on this machine, from the run's own measurements. */
export function limits(r: Omit<BenchResult, 'checks'>): {
  postgres: number;
  redisMs: number;
  both: number;
  designMs: number;
  design: number;
  allMs: number;
  copyOverInsert: number;
} {
  const cpuMs = r.machine.cores * 1000;
  const best = r.throughput.best.cpu_ms_per_session;
  const redisMs = best.redis ?? NaN;
  // The least CPU a session can take in this design: its loads (PostgreSQL and the
  // process driving them) plus BullMQ running its flow with empty jobs (process and Redis).
  const designMs =
    r.floor.postgres_cpu_ms + r.floor.client_cpu_ms + r.queue_floor.process_cpu_ms + r.queue_floor.redis_cpu_ms;
  return {
    postgres: cpuMs / r.floor.postgres_cpu_ms,
    redisMs,
    both: cpuMs / (r.floor.postgres_cpu_ms + redisMs),
    designMs,
    design: cpuMs / designMs,
    allMs: (best.workers ?? NaN) + (best.api ?? NaN) + (best.redis ?? NaN) + (best.postgres ?? NaN),
    copyOverInsert: r.bulk.psql_copy.rows_per_second / r.bulk.insert_100.rows_per_second,
  };
}

/** Adds to the last (missed) check what bounds it. */
function explain(out: Check[], limit: string): void {
  const last = out.pop() as Check;
  out.push({ ...last, limit });
}

function fix(v: number, digits = 1): string {
  if (!Number.isFinite(v)) return String(v);
  return v.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(head: string[], rows: (string | number)[][], align?: ('l' | 'r')[]): string {
  const cells = [head, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fix(c) : c)))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => [...(r[i] ?? '')].length)));
  const pad = (s: string, i: number) => {
    const gap = ' '.repeat(Math.max(0, (widths[i] ?? 0) - [...s].length));
    return (align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? s + gap : gap + s;
  };
  const line = (r: string[]) => `  ${r.map(pad).join('  ')}`.trimEnd();
  return [line(cells[0] as string[]), line(widths.map((w) => '─'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

const sumRow = (name: string, s: Summary) => [name, String(s.n), s.p50, s.p95, s.p99, s.min, s.max];

export function formatReport(r: BenchResult): string {
  const m = r.machine;
  const parts: string[] = [];
  parts.push(
    `demo-seed benchmark (${r.mode}${r.mode === 'quick' ? ': fewer sessions, smaller bulk profile' : ''}), ${r.started_at}, ${fix(r.duration_s, 0)} s`,
  );
  parts.push(
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gb} GB; Node ${m.node}; PostgreSQL ${m.postgres}; Redis ${m.redis}; ${m.os}; load average ${m.load_start} at start, ${m.load_end ?? '?'} at end`,
  );
  parts.push(
    `code: ${m.code}${m.load_fk_checks ? `; the loads' per-row foreign-key checks: ${m.load_fk_checks} (LOAD_FK_CHECKS)` : ''}`,
  );
  parts.push(`method:\n${r.method.map((x) => `  - ${x}`).join('\n')}`);

  const l = r.latency;
  parts.push(
    `1. LATENCY, POST → ready, one session at a time (ms)\n` +
      table(
        ['', 'n', 'p50', 'p95', 'p99', 'min', 'max'],
        [
          sumRow('professional, client', l.summary.professional.client),
          sumRow('professional, server', l.summary.professional.server),
          sumRow('enterprise, client', l.summary.enterprise.client),
          sumRow('enterprise, server', l.summary.enterprise.server),
          sumRow('destroy, client', l.destroy),
        ],
      ),
  );

  const t = r.throughput;
  parts.push(
    `2. THROUGHPUT, professional sessions until ready, N in flight at a time\n` +
      table(
        [
          'workers',
          'in flight',
          'sessions',
          'seconds',
          'sessions/s',
          'server /s',
          'latency p50',
          'p95',
          'CPU ms/session: workers',
          'API',
          'Redis',
          'PostgreSQL',
          'all',
        ],
        t.levels.map((x) => [
          String(x.workers),
          String(x.concurrency),
          String(x.sessions),
          x.elapsed_ms / 1000,
          x.per_second,
          x.server_per_second,
          x.latency.p50,
          x.latency.p95,
          x.cpu_ms_per_session.workers ?? NaN,
          x.cpu_ms_per_session.api ?? NaN,
          x.cpu_ms_per_session.redis ?? NaN,
          x.cpu_ms_per_session.postgres ?? NaN,
          (x.cpu_ms_per_session.workers ?? NaN) +
            (x.cpu_ms_per_session.api ?? NaN) +
            (x.cpu_ms_per_session.redis ?? NaN) +
            (x.cpu_ms_per_session.postgres ?? NaN),
        ]),
      ) +
      `\n  CPU: user+system per session of our worker and API processes (/proc), the whole Redis server (INFO cpu) and the whole PostgreSQL server (every postgres process, /proc); ${m.cores} cores give ${(m.cores * 1000).toLocaleString('en')} CPU ms a second to all of them (and to the bench's own client)` +
      `\n  destroy between levels: ${t.destroy_batches.map((d) => `${d.sessions} in ${fix(d.elapsed_ms / 1000)} s (${fix(d.per_second)}/s)`).join(', ')}, ${t.destroy_batches[0]?.concurrency ?? 8} at a time`,
  );

  const b = r.bulk;
  const rate = (x: number) => `${Math.round(x).toLocaleString('en')} rows/s`;
  parts.push(
    `3. BULK LOAD, professional profile, sales_daily ${b.service.rows.toLocaleString('en')} rows (scale ${b.scale})\n` +
      table(
        ['method', 'rows', 'ms', 'rate', 'service ÷ it'],
        [
          [
            'service job: sales_daily (transform + COPY)',
            b.service.rows.toLocaleString('en'),
            String(b.service.table_ms),
            rate(b.service.rows_per_second),
            '',
          ],
          [
            'service job: whole sales job',
            b.service.rows.toLocaleString('en'),
            String(b.service.job_ms),
            rate(b.service.job_rows_per_second),
            '',
          ],
          [
            'psql \\copy of the same rows',
            b.psql_copy.rows.toLocaleString('en'),
            String(b.psql_copy.ms),
            rate(b.psql_copy.rows_per_second),
            `${fix(b.ratio_vs_copy, 2)}×`,
          ],
          [
            'pg INSERT, 100 rows per statement',
            b.insert_100.rows.toLocaleString('en'),
            String(b.insert_100.ms),
            rate(b.insert_100.rows_per_second),
            `${fix(b.ratio_vs_insert, 2)}×`,
          ],
        ],
      ) +
      `\n  INSERT: ${b.insert_100.note}` +
      `\n  each method's fastest of ${b.rounds.length} round(s); rows/s by round, service / psql \\copy / INSERT: ${b.rounds.map((r) => [r.service, r.psql_copy, r.insert_100].map((x) => Math.round(x).toLocaleString('en')).join(' / ')).join('; ')}` +
      `\n  dedicated sales worker RSS: ${b.worker_rss.before_mb} MB before the load, VmHWM ${b.worker_rss.vm_hwm_mb} MB, sampled peak ${b.worker_rss.sampled_peak_mb} MB (${b.worker_rss.samples} samples, every 50 ms)` +
      `\n  whole session ${fix(b.service.session_ms / 1000)} s; destroying it (DELETE → destroyed) ${fix(b.destroy_ms / 1000)} s; profile generated in ${fix(b.generate_ms / 1000)} s`,
  );

  const k = r.breakdown;
  parts.push(
    `4. WHERE THE TIME GOES, professional session ${k.session_id} (median of ${k.sessions} by server time: ${k.server_ms} ms server, ${fix(k.client_ms)} ms client)\n` +
      table(
        ['stage (critical path)', 'this session ms', `p50 of ${k.sessions} ms`],
        [
          ...k.stages.map((s) => [s.label, s.ms, s.p50_ms]),
          ['total (= client latency)', k.stages.reduce((n, s) => n + s.ms, 0), ''],
        ],
      ) +
      '\n\n' +
      table(
        ['service', 'phase', 'wave', 'rows', 'queued at', 'wait', 'work', 'done at', 'p50 wait', 'p50 work'],
        k.services.map((s) => [
          s.service,
          String(s.phase),
          String(s.wave),
          String(s.rows),
          s.queued_ms,
          s.wait_ms,
          s.work_ms,
          s.finished_ms,
          s.p50_wait_ms,
          s.p50_work_ms,
        ]),
      ) +
      '\n\n' +
      table(
        ['critical path', 'handoff before', 'queued at', 'wait', 'work', 'done at'],
        k.critical_path.map((c) => [c.service, c.handoff_ms, c.queued_ms, c.wait_ms, c.work_ms, c.finished_ms]),
        ['l', 'r', 'r', 'r', 'r', 'r'],
      ) +
      '\n\n' +
      table(
        ['phase', 'rows', 'start', 'end', 'duration'],
        k.phases.map((p) => [String(p.phase), String(p.rows), p.started_ms, p.finished_ms, p.duration_ms]),
      ) +
      `\n  (times in ms from the session's created_at; Σ over the 11 services, p50: queue wait ${fix(k.totals.wait_ms)} ms, work ${fix(k.totals.work_ms)} ms)`,
  );

  const f = r.floor;
  const q = r.queue_floor;
  const lim = limits(r);
  parts.push(
    `5. WHAT POSTGRESQL, REDIS AND BULLMQ THEMSELVES ALLOW (${m.cores} cores = ${(m.cores * 1000).toLocaleString('en')} CPU ms a second)\n` +
      table(
        ['measure', 'value'],
        [
          ...f.levels.map((l) => [
            `${f.profile} loads alone, ${l.concurrency} at a time (${l.sessions} sessions); CPU ms a session: PostgreSQL / this process`,
            `${fix(l.per_second)} /s; ${fix(l.postgres_cpu_ms)} / ${fix(l.client_cpu_ms)}`,
          ]),
          [
            `PostgreSQL CPU per session at the best of those levels (${f.concurrency} at a time)`,
            `${fix(f.postgres_cpu_ms)} ms`,
          ],
          ['  → sessions/s PostgreSQL alone allows', `${fix(lim.postgres)} /s`],
          [
            '  the loads alone, PostgreSQL and this process on the same cores, reached at best',
            `${fix(f.per_second)} /s`,
          ],
          [`Redis CPU per session under BullMQ (best throughput level)`, `${fix(lim.redisMs)} ms`],
          [
            '  → sessions/s PostgreSQL and Redis together allow, with every Node.js process free',
            `${fix(lim.both)} /s`,
          ],
          ...q.levels.map((l) => [
            `BullMQ alone: the session's flow (${q.jobs_per_session} jobs) with empty jobs, ${l.concurrency} at a time (${l.sessions} sessions); CPU ms a session: this process / Redis`,
            `${fix(l.per_second)} /s; ${fix(l.process_cpu_ms)} / ${fix(l.redis_cpu_ms)}`,
          ]),
          [
            `the loads (PostgreSQL ${fix(f.postgres_cpu_ms)} + their process ${fix(f.client_cpu_ms)}) and BullMQ alone (${fix(q.process_cpu_ms)} + Redis ${fix(q.redis_cpu_ms)}), in CPU ms a session`,
            `${fix(lim.designMs)} ms`,
          ],
          ['  → sessions/s they allow together, with nothing else running', `${fix(lim.design)} /s`],
          [`the whole system at its best throughput level (workers, API, Redis, PostgreSQL)`, `${fix(lim.allMs)} ms`],
          ['psql \\copy ÷ 100-row INSERT rate (the bulk figures above)', `${fix(lim.copyOverInsert, 2)} ×`],
        ],
        ['l', 'r'],
      ),
  );

  parts.push(
    'TARGETS (2-core machine)\n' +
      table(
        ['figure', 'value', 'target', 'result'],
        r.checks.map((c) => [
          c.figure,
          `${fix(c.value, c.unit === '×' ? 2 : 1)} ${c.unit}`,
          c.target,
          c.pass === null ? c.note : c.pass ? 'PASS' : `MISS: ${c.note}`,
        ]),
        ['l', 'r', 'l', 'l'],
      ) +
      r.checks
        .filter((c) => c.limit)
        .map((c) => `\n  ${c.figure}: ${c.limit}`)
        .join(''),
  );
  if (r.files) parts.push(`written: ${r.files.json}\n         ${r.files.svg}`);
  return parts.join('\n\n');
}
