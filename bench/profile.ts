import { cp, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ApiClient } from './client.ts';
import { cpuMeter, postgresCpuMs, processCpuMs, processCpuSplit, redisCpuMs } from './cpu.ts';
import { destroyAll, measureLevel } from './throughput.ts';
import { World } from './world.ts';

/**
 * `npm run bench:profile [-- <sessions> <in flight>]`: professional sessions through
 * one API and one worker process, both started with --cpu-prof, then the hottest functions
 * and packages by self time of each, and CPU ms per session of every process
 * (BENCH_PROFILE_DIR=dir keeps the .cpuprofile files). A tool for finding CPU, not a
 * benchmark: time spent in a socket write includes being descheduled for the process
 * it woke, so read the /proc CPU figures beside it.
 */
const [sessions, concurrency] = [process.argv[2] ?? '200', process.argv[3] ?? '16'].map(Number) as [number, number];
if (
  process.argv.length > 4 ||
  !Number.isInteger(sessions) ||
  sessions < 1 ||
  !Number.isInteger(concurrency) ||
  concurrency < 1
) {
  process.stderr.write(
    'usage: npm run bench:profile [-- <sessions, default 200> <in flight, default 16>]  (whole numbers ≥ 1)\n',
  );
  process.exit(2);
}

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function where(url: string): string {
  if (!url) return '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1] as string;
  if (url.startsWith('node:')) return url;
  const s = /\/(src|bench)\/(.*)$/.exec(url);
  return s ? `${s[1]}/${s[2]}` : url;
}

function summarize(file: string, p: Profile): string {
  const total = p.endTime - p.startTime;
  const byNode = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++)
    byNode.set(p.samples[i] as number, (byNode.get(p.samples[i] as number) ?? 0) + (p.timeDeltas[i] ?? 0));
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  for (const n of p.nodes) {
    const t = byNode.get(n.id) ?? 0;
    const w = where(n.callFrame.url);
    const name = `${n.callFrame.functionName || '(anon)'} ${w}:${n.callFrame.lineNumber + 1}`;
    fn.set(name, (fn.get(name) ?? 0) + t);
    const group = n.callFrame.url ? w.replace(/\/[^/]*$/, '') : n.callFrame.functionName;
    pkg.set(group, (pkg.get(group) ?? 0) + t);
  }
  const top = (m: Map<string, number>, k: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([n, t]) => `  ${(t / 1000).toFixed(0).padStart(7)} ms ${((100 * t) / total).toFixed(1).padStart(5)}%  ${n}`)
      .join('\n');
  // Native leaves (socket writes, GC...) charged to the nearest caller in a package or our code.
  const parent = new Map<number, Node>();
  const nodeById = new Map<number, Node>();
  for (const n of p.nodes) {
    nodeById.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n);
  }
  const caller = new Map<string, number>();
  for (const n of p.nodes) {
    const t = byNode.get(n.id) ?? 0;
    if (t === 0 || n.callFrame.url) continue;
    const chain: string[] = [];
    let q: Node | undefined = parent.get(n.id);
    while (q && chain.length < 3) {
      const u = q.callFrame.url;
      if (u && !u.startsWith('node:'))
        chain.push(`${q.callFrame.functionName || '(anon)'} ${where(u)}:${q.callFrame.lineNumber + 1}`);
      q = parent.get(q.id);
    }
    const key = `${n.callFrame.functionName} <- ${chain.join(' <- ') || '(none)'}`;
    caller.set(key, (caller.get(key) ?? 0) + t);
  }
  return `${file}: ${(total / 1000).toFixed(0)} ms profiled\n by package/folder:\n${top(pkg, 25)}\n by function:\n${top(fn, 45)}\n native time by caller:\n${top(caller, 30)}\n`;
}

const world = await World.create();
try {
  const profDir = path.join(world.tmp, 'prof');
  const { url, proc: apiProc } = await world.startApi(['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
  const worker = await world.startWorker('worker-1', [], ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
  const api = new ApiClient(url);
  const meter = cpuMeter({
    workerUser: async () => (await processCpuSplit(worker.pid)).user,
    workerSystem: async () => (await processCpuSplit(worker.pid)).system,
    apiUser: async () => (await processCpuSplit(apiProc.pid)).user,
    apiSystem: async () => (await processCpuSplit(apiProc.pid)).system,
    worker: () => processCpuMs(worker.pid),
    api: () => processCpuMs(apiProc.pid),
    redis: () => redisCpuMs(world.rt.redis),
    postgres: postgresCpuMs,
    bench: () => processCpuMs(process.pid),
  });
  const opts = { workers: 1, concurrency, sessions: 32, maxMs: 60_000, profile: 'professional' };
  const warm = await measureLevel(api, world.rt.dbs.pool('demo_session'), opts, meter);
  await destroyAll(api, warm.ids);
  const { level, ids } = await measureLevel(api, world.rt.dbs.pool('demo_session'), { ...opts, sessions }, meter);
  process.stdout.write(
    `${level.sessions} sessions, ${level.per_second.toFixed(1)}/s, CPU ms/session ${JSON.stringify(level.cpu_ms_per_session)}\n`,
  );
  await destroyAll(api, ids);
  await worker.stop();
  await apiProc.stop();
  const keep = process.env.BENCH_PROFILE_DIR;
  if (keep) await cp(profDir, keep, { recursive: true });
  for (const f of await readdir(profDir))
    process.stdout.write(summarize(f, JSON.parse(await readFile(path.join(profDir, f), 'utf8')) as Profile));
} finally {
  await world.close();
}
