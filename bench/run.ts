import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { breakdown, type SessionTiming } from './breakdown.ts';
import { measureBulk, rowsForScale } from './bulk.ts';
import { renderChart } from './chart.ts';
import { ApiClient } from './client.ts';
import { fastest } from './closed-loop.ts';
import { cpuMeter, postgresCpuMs, processCpuMs, redisCpuMs } from './cpu.ts';
import { measurePostgresFloor } from './floor.ts';
import { measureQueueFloor } from './queue-floor.ts';
import { measureLatency } from './latency.ts';
import { describeMachine, loadNow } from './machine.ts';
import { checks, formatReport, type BenchResult } from './report.ts';
import { destroyAll, measureLevel, type DestroyBatch, type ThroughputLevel } from './throughput.ts';
import { World } from './world.ts';

/**
 * `npm run bench [-- --quick] [-- --json]`: latency, throughput, bulk load and the
 * time breakdown of a session, in one isolated world on the local Redis and
 * PostgreSQL. Progress goes to stderr; the report to stdout (with --json, the result
 * object as its last line); files to bench/results/<date>.{json,svg}, a folder git
 * ignores. With --baseline the run is also written to bench/results/baseline.{json,svg}, the
 * one result kept in git: the run the README's performance table is read from.
 */
const RESULTS_DIR = path.join(import.meta.dirname, 'results');
const CONCURRENCY = [1, 4, 16, 32];

const PLANS = {
  quick: {
    perProfile: 20,
    warmup: 2,
    sessionsAt: (c: number) => Math.max(10, 3 * c),
    levelMaxMs: 5_000,
    workerCounts: [1, 2],
    scale: 1112,
    bulkRounds: 2,
    floorSessions: 60,
    floorConcurrency: [8, 16],
    queueFloorSessions: 100,
    queueFloorConcurrency: [16, 32],
  },
  full: {
    perProfile: 60,
    warmup: 3,
    sessionsAt: (c: number) => Math.max(50, 8 * c),
    levelMaxMs: 60_000,
    workerCounts: [1, 2],
    scale: 3704,
    bulkRounds: 2,
    floorSessions: 200,
    floorConcurrency: [4, 8, 16, 32],
    queueFloorSessions: 300,
    queueFloorConcurrency: [16, 32],
  },
};

function parseArgs(argv: string[]): { quick: boolean; json: boolean; dist: boolean; baseline: boolean } {
  const known = new Set(['--quick', '--json', '--dist', '--baseline']);
  const bad = argv.filter((a) => !known.has(a));
  if (bad.length > 0) {
    process.stderr.write(
      `bench: unknown argument ${bad.join(' ')}\nusage: npm run bench [-- [--quick] [--json] [--dist] [--baseline]]\n` +
        '  --quick  under 3 minutes: 20 sessions per profile, short throughput levels, a 300k-row bulk profile\n' +
        '  --json   print the result object as the last line of stdout\n' +
        '  --dist   run the API and workers from dist/ (npm run build), as the Docker image does, instead of through tsx\n' +
        '  --baseline  also write the result to bench/results/baseline.{json,svg}, the run kept in git\n',
    );
    process.exit(2);
  }
  return {
    quick: argv.includes('--quick'),
    json: argv.includes('--json'),
    dist: argv.includes('--dist'),
    baseline: argv.includes('--baseline'),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const mode = args.quick ? 'quick' : 'full';
  const plan = PLANS[mode];
  const t0 = Date.now();
  const startedAt = new Date(t0).toISOString().replace(/\.\d+Z$/, 'Z');
  const progress = (msg: string) =>
    process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);

  progress(`${mode} run: creating an isolated world (own databases, queue prefix, temp folder)`);
  const world = await World.create({ dist: args.dist });
  let api: ApiClient | undefined;
  try {
    const machine = await describeMachine(world.rt);
    progress(
      `floor: ${plan.floorSessions} professional sessions' loads straight into PostgreSQL (no BullMQ, Redis or API), ${plan.floorConcurrency.join(', ')} at a time`,
    );
    const floor = await measurePostgresFloor(world, {
      profile: 'professional',
      sessions: plan.floorSessions,
      concurrencies: plan.floorConcurrency,
    });
    progress(
      `queue floor: ${plan.queueFloorSessions} sessions' BullMQ flows with empty jobs (no PostgreSQL, ID maps or API), ${plan.queueFloorConcurrency.join(', ')} at a time`,
    );
    const queueFloor = await measureQueueFloor(world, {
      sessions: plan.queueFloorSessions,
      concurrencies: plan.queueFloorConcurrency,
    });
    const { url, proc: apiProc } = await world.startApi();
    api = new ApiClient(url);
    const workers = [await world.startWorker('worker-1')];
    progress(
      `API at ${url}, 1 worker process; databases ${world.cfg.DB_NAME_PREFIX}*, queue prefix ${world.cfg.QUEUE_PREFIX}`,
    );

    const latency = await measureLatency(
      api,
      world.rt.dbs.pool('demo_session'),
      { perProfile: plan.perProfile, warmup: plan.warmup },
      progress,
    );
    const split = breakdown(latency.timings);
    const timeline = latency.timings.find((t) => t.session_id === split.session_id) as SessionTiming;

    const levels: ThroughputLevel[] = [];
    const destroyBatches: DestroyBatch[] = [];
    for (const n of plan.workerCounts) {
      while (workers.length < n) workers.push(await world.startWorker(`worker-${workers.length + 1}`));
      const meter = cpuMeter({
        workers: async () => (await Promise.all(workers.map((w) => processCpuMs(w.pid)))).reduce((a, b) => a + b, 0),
        api: () => processCpuMs(apiProc.pid),
        redis: () => redisCpuMs(world.rt.redis),
        postgres: postgresCpuMs,
        bench: () => processCpuMs(process.pid),
      });
      // Warm-up, not counted: a new worker process connects its pools and loads the profiles on first use.
      const warm = await measureLevel(
        api,
        world.rt.dbs.pool('demo_session'),
        { workers: n, concurrency: 16, sessions: 32, maxMs: plan.levelMaxMs, profile: 'professional' },
        meter,
      );
      await destroyAll(api, warm.ids);
      for (const c of CONCURRENCY) {
        const { level, ids } = await measureLevel(
          api,
          world.rt.dbs.pool('demo_session'),
          {
            workers: n,
            concurrency: c,
            sessions: plan.sessionsAt(c),
            maxMs: plan.levelMaxMs,
            profile: 'professional',
          },
          meter,
        );
        levels.push(level);
        destroyBatches.push(await destroyAll(api, ids));
        progress(
          `throughput: ${n} worker(s), ${c} in flight: ${level.sessions} sessions, ${level.per_second.toFixed(1)}/s`,
        );
      }
    }
    const best = fastest(levels);
    await Promise.all(workers.map((w) => w.stop()));

    progress(
      `bulk: generating a professional profile with ${rowsForScale(plan.scale).toLocaleString('en')} sales rows`,
    );
    const bulk = await measureBulk(world, api, { scale: plan.scale, rounds: plan.bulkRounds }, progress);
    machine.load_end = loadNow();

    const partial: Omit<BenchResult, 'checks'> = {
      version: 1,
      mode,
      started_at: startedAt,
      finished_at: new Date().toISOString(),
      duration_s: (Date.now() - t0) / 1000,
      machine,
      method: method(plan, bulk.service.rows, args.dist),
      latency: {
        warmup_per_profile: latency.warmup_per_profile,
        samples: latency.samples,
        summary: latency.summary,
        destroy: latency.destroy,
      },
      throughput: { levels, best, destroy_batches: destroyBatches },
      bulk,
      floor,
      queue_floor: queueFloor,
      breakdown: split,
      timeline,
    };
    const result: BenchResult = { ...partial, checks: checks(partial) };
    const stamp = startedAt.replace(/:/g, '-');
    await mkdir(RESULTS_DIR, { recursive: true });
    const files = { json: path.join(RESULTS_DIR, `${stamp}.json`), svg: path.join(RESULTS_DIR, `${stamp}.svg`) };
    result.files = { json: path.relative(process.cwd(), files.json), svg: path.relative(process.cwd(), files.svg) };
    await writeFile(files.svg, renderChart(result, timeline));
    progress('cleaning up');
    await world.close(); // before the final figures, so the run's duration includes it
    result.finished_at = new Date().toISOString();
    result.duration_s = (Date.now() - t0) / 1000;
    await writeFile(files.json, `${JSON.stringify(result, null, 2)}\n`);
    if (args.baseline) {
      await copyFile(files.json, path.join(RESULTS_DIR, 'baseline.json'));
      await copyFile(files.svg, path.join(RESULTS_DIR, 'baseline.svg'));
      progress('written as bench/results/baseline.{json,svg} too');
    }
    process.stdout.write(`${formatReport(result)}\n`);
    if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    api?.close();
    await world.close();
  }
}

function method(plan: (typeof PLANS)[keyof typeof PLANS], bulkRows: number, dist: boolean): string[] {
  return [
    `one API process (demo-seed api) and 1 or 2 worker processes (demo-seed worker, WORKER_CONCURRENCY default) on the local Redis and PostgreSQL, in their own databases and queue prefix; run ${dist ? 'from dist/ (compiled)' : 'through tsx (TypeScript compiled in-process)'}`,
    `latency: ${plan.perProfile} sessions per profile, one at a time, profiles alternating, after ${plan.warmup} warm-up session(s) each; client = POST sent → its event stream (GET …/events, opened after the POST's answer; the API pushes on each BullMQ job event) delivers end with ready; server = the session's duration_ms (created → last service done); in rounds of 5 per profile: created one at a time, then destroyed one at a time (DELETE → its event stream ends with destroyed: the destroy figure)`,
    `throughput: closed loop, N professional sessions in flight through the API, up to ${plan.sessionsAt(1)}-${plan.sessionsAt(32)} sessions or ${plan.levelMaxMs / 1000} s per level; readiness seen on each session's event stream; sessions/s = sessions / (first POST → last ready seen); each level's sessions destroyed before the next; before the levels of each worker count, 32 warm-up sessions (16 in flight) not counted`,
    `bulk: professional profile generated with ${bulkRows.toLocaleString('en')} sales rows${bulkRows < 1_000_000 ? ' (QUICK MODE: a smaller profile than the million-row target)' : ''}, loaded by a session whose sales job runs alone in a dedicated worker process (--services sales --no-session-queue); the loaded rows exported with psql \\copy, given fresh ids (another session's, which lie together in the index as the service's own do) and another tenant, then loaded with psql \\copy and with pg INSERTs of 100 rows; each load into the same emptied, vacuumed sales_daily, after a CHECKPOINT and with no autovacuum running; the three loads in ${plan.bulkRounds} rounds, each method's figure its fastest round (the machine's speed drifts within a minute)`,
    `floor: the statements of a professional session's 11 loads (per database, in one Query as the worker sends it: BEGIN (with the foreign-key checks skipped where the worker's are: see code:), the load marker with its row counts, a COPY per table and COMMIT; each service once its dependencies are loaded) run straight from the bench process with the worker's own code, ${plan.floorSessions} sessions at each of ${plan.floorConcurrency.join(', ')} at a time, first, on the new databases (emptied again afterwards), without BullMQ, Redis, the API or the session record; PostgreSQL's CPU per session (every postgres process, /proc) bounds what the machine can reach, and the best level's rate is what the loads alone reach`,
    `queue floor: what BullMQ itself costs a session: the real flow and job options (session job, the 11 service jobs each added by the job that completes its dependencies, the delayed expiry job), one worker per queue at WORKER_CONCURRENCY, but jobs that only mark their service done (one Redis MULTI) and add their ready dependents; producer, workers and a QueueEvents on the session queue in the bench process, on a queue prefix of their own; ${plan.queueFloorSessions} sessions at each of ${plan.queueFloorConcurrency.join(', ')} at a time, after 32 warm-up sessions; no PostgreSQL, ID maps, session record or API`,
    'breakdown: the median professional session of the latency run (by server time), from demo_sessions.services; stages of the critical path add up to the client latency',
  ];
}

// Everything is closed by now; exit even if a stray timer or socket of a library is left.
main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
