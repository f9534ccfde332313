import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { SERVICES } from '../../src/catalog/services.ts';
import type { SessionView } from '../../src/sessions/session-view.ts';
import { progressKey, sessionKeys } from '../../src/redis/keys.ts';
import { generateProfile } from '../../src/seed-tools/generate/index.ts';
import { formatDay, parseDay, utcDay } from '../../src/seed/dates.ts';
import type { Manifest } from '../../src/seed/profile.ts';
import { allUuidsIn, countsOf, leftoverCount, sessionRows, uuidColumns } from '../support/data-rules.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { runCli, type ServiceProcess } from '../support/processes.ts';
import { profileRecords, readManifest } from '../support/sessions.ts';

/**
 * Helpers of the fault suite (test/faults): a fleet of real `demo-seed` processes,
 * private Redis and PostgreSQL servers that may be killed and restarted, the data-rules
 * checker every scenario ends with, and the recovery-time report.
 *
 * Modes: `vitest.faults.config.ts` sets FAULTS_SUITE=1 (full scenarios); FAULTS_QUICK=1
 * runs the short variants (for `npm test`); with neither the files are skipped, should
 * another config pick them up by accident.
 */

/** Longer than the servers' log flush interval (200 ms). */
const LOG_SETTLE_MS = 500;
const PAUSE_COPY_PRELOAD = pathToFileURL(path.join(import.meta.dirname, 'pause-copy.mjs')).href;
const SENTINEL_KEY = 'fault-suite:sentinel';
export const QUICK = process.env.FAULTS_QUICK === '1';
export const ENABLED = QUICK || process.env.FAULTS_SUITE === '1';
export const describeFaults = ENABLED ? describe : describe.skip;
/** Picks the full or the quick value of a knob. */
export const pick = <T>(full: T, quick: T): T => (QUICK ? quick : full);
/** Per test and per hook, set explicitly: the quick variants also run under the default config (60 s tests). */
export const TEST_TIMEOUT_MS = pick(300_000, 150_000);
export const HOOK_TIMEOUT_MS = 180_000;

/**
 * Harness overrides shared by the scenarios: fast lock expiry, stall detection and reconciling.
 * 2 s locks (renewed every second) hold since a big table is encoded in slices
 * (service-job.ts: ENCODE_SLICE_MS); FAULTS_LOCK_DURATION_MS tries another value.
 */
export const FAST_RECOVERY: Record<string, string> = {
  LOCK_DURATION_MS: process.env.FAULTS_LOCK_DURATION_MS ?? '2000',
  STALLED_INTERVAL_MS: process.env.FAULTS_STALLED_INTERVAL_MS ?? '1000',
  RECONCILE_INTERVAL_MS: '500',
  JOB_BACKOFF_MS: '200',
  JOB_ATTEMPTS: '6',
  SESSION_LOAD_TIMEOUT_SECONDS: '90',
  HOST: '127.0.0.1',
  RATE_LIMIT_PER_MINUTE: '0',
  MAX_SESSIONS_PER_EMAIL: '0',
};

export const FINAL = ['ready', 'failed', 'destroyed', 'expired'] as const;
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// Everything started here is stopped on 'exit' too, even when afterAll never ran.

const exitCleanups = new Set<() => void>();
function runExitCleanups(): void {
  for (const fn of [...exitCleanups].reverse()) {
    exitCleanups.delete(fn);
    try {
      fn();
    } catch {
      // best effort: the process is going away
    }
  }
}
process.once('exit', runExitCleanups);
// A test process ended by a signal (a cancelled run) does not reach 'exit' on its own.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.once(signal, () => {
    runExitCleanups();
    process.exit(128 + (signal === 'SIGTERM' ? 15 : signal === 'SIGINT' ? 2 : 1));
  });
}
function onExit(fn: () => void): () => void {
  exitCleanups.add(fn);
  return () => exitCleanups.delete(fn);
}
const killChildOnExit = (child: ChildProcess) => {
  const off = onExit(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  child.once('exit', () => off());
};

/** A temp directory removed on exit (and by the returned function). */
export function tempDir(tag: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), `demo-seed-faults-${tag}-`));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const off = onExit(remove);
  return {
    dir,
    remove() {
      off();
      remove();
    },
  };
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
      );
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------
// Recovery times

export interface RecoveryRecord {
  scenario: string;
  ms: number;
  detail?: Record<string, unknown>;
}
export const recoveries: RecoveryRecord[] = [];

/** Prints `recovery <scenario>: N ms` (and appends a JSON line to $FAULTS_REPORT when set). */
export function recordRecovery(scenario: string, ms: number, detail?: Record<string, unknown>): void {
  const r: RecoveryRecord = { scenario, ms: Math.round(ms), ...(detail ? { detail } : {}) };
  recoveries.push(r);
  console.log(`recovery ${scenario}: ${r.ms} ms${detail ? ` ${JSON.stringify(detail)}` : ''}`);
  if (process.env.FAULTS_REPORT)
    appendFileSync(
      process.env.FAULTS_REPORT,
      `${JSON.stringify({ ...r, quick: QUICK, at: new Date().toISOString() })}\n`,
    );
}

export function stats(ms: number[]): { n: number; min: number; median: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, min: s[0] ?? 0, median: s[Math.floor(s.length / 2)] ?? 0, max: s.at(-1) ?? 0 };
}

// ---------------------------------------------------------------------------
// A fleet of real `demo-seed` processes

export interface FleetProcess {
  readonly name: string;
  readonly kind: 'worker' | 'api';
  readonly port: number;
  readonly args: readonly string[];
  proc: ServiceProcess;
  /** ms from spawn to ready (health endpoint / `HTTP API listening`); 0 while starting. */
  readyMs: number;
  /** Output of earlier incarnations (before restarts). */
  history: string;
  restarts: number;
  /** Set when the fleet itself stops it: any other exit is a crash. */
  stopping: boolean;
}

export interface Crash {
  name: string;
  at: number;
  exit: number | NodeJS.Signals;
  /** What the process printed last that is not a JSON log line (the uncaught error). */
  reason: string;
  /** The same, with its stack. */
  detail: string;
}

export class Fleet {
  readonly procs = new Map<string, FleetProcess>();
  /** Processes that exited without being told to. Each is started again, as a supervisor (Kubernetes) would. */
  readonly crashes: Crash[] = [];
  private closed = false;
  /** While this file exists, workers hold a COPY into the table it names (test/faults/pause-copy.mjs). */
  private readonly pauseCopyFile = path.join(
    tmpdir(),
    `demo-seed-fault-pause-copy-${process.pid}-${Math.random().toString(36).slice(2)}`,
  );

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly extraEnv: Record<string, string> = {},
  ) {}

  /** From now on, every worker holds a COPY into `table` for `ms` before sending it. */
  pauseCopy(table: string, ms: number): void {
    writeFileSync(this.pauseCopyFile, `${table} ${ms}`);
  }

  resumeCopy(): void {
    rmSync(this.pauseCopyFile, { force: true });
  }

  /** One line per crash since the `from`-th, for an assertion: empty when every process survived. */
  crashReport(from = 0): string {
    return this.crashes
      .slice(from)
      .map((c) => `${c.name} exited (${c.exit}) at ${new Date(c.at).toISOString()}: ${c.reason}`)
      .join('\n');
  }

  /** Starts `demo-seed worker` with its own health port; resolves once its `/healthz` answers 200. */
  async worker(name: string, args: string[] = []): Promise<FleetProcess> {
    return this.launch(name, 'worker', args, await freePort());
  }

  /** Starts `demo-seed api` on its own port; resolves once it listens. */
  async api(name = 'api'): Promise<FleetProcess> {
    return this.launch(name, 'api', [], await freePort());
  }

  url(name = 'api'): string {
    return `http://127.0.0.1:${this.get(name).port}`;
  }

  get(name: string): FleetProcess {
    const p = this.procs.get(name);
    if (!p) throw new Error(`no process ${name} in the fleet`);
    return p;
  }

  alive(name: string): boolean {
    const c = this.get(name).proc.child;
    return c.exitCode === null && c.signalCode === null;
  }

  /** Alive and done starting. */
  ready(name: string): boolean {
    return this.alive(name) && this.get(name).readyMs > 0;
  }

  /** Sends `signal`; for SIGKILL (and other ending signals) resolves once the process is gone. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.get(name);
    if (!this.alive(name)) return;
    if (signal === 'SIGKILL' || signal === 'SIGTERM') p.stopping = true;
    p.proc.child.kill(signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM') await p.proc.exited;
  }

  /** Starts a stopped (or killed) process again with the same name, arguments and port. */
  async restart(name: string): Promise<FleetProcess> {
    const p = this.get(name);
    if (this.alive(name)) await this.kill(name);
    return this.launch(name, p.kind, [...p.args], p.port);
  }

  /** pid → name of the processes alive now. */
  pids(): Map<number, string> {
    const out = new Map<number, string>();
    for (const [name, p] of this.procs) if (this.alive(name) && p.proc.child.pid) out.set(p.proc.child.pid, name);
    return out;
  }

  output(name: string): string {
    const p = this.get(name);
    return p.history + p.proc.output();
  }

  /**
   * logLines once every process has written what it logged so far: servers buffer
   * their log lines for up to 200 ms (src/shared/logger.ts).
   */
  async settledLogLines(
    pred: (line: Record<string, unknown>) => boolean = () => true,
  ): Promise<Array<Record<string, unknown> & { proc: string }>> {
    await sleep(LOG_SETTLE_MS);
    return this.logLines(pred);
  }

  /** JSON log lines of every process (all incarnations) that match `pred`. */
  logLines(
    pred: (line: Record<string, unknown>) => boolean = () => true,
  ): Array<Record<string, unknown> & { proc: string }> {
    const out: Array<Record<string, unknown> & { proc: string }> = [];
    for (const name of this.procs.keys()) {
      for (const l of this.output(name).split('\n')) {
        if (!l.startsWith('{')) continue;
        try {
          const j = JSON.parse(l) as Record<string, unknown>;
          if (pred(j)) out.push({ ...j, proc: name });
        } catch {
          // a line cut by SIGKILL
        }
      }
    }
    return out;
  }

  /** The last `n` lines of every process' output, for a failure report. */
  tails(n = 30): string {
    return [...this.procs.keys()]
      .map((name) => `--- ${name}\n${this.output(name).split('\n').slice(-n).join('\n')}`)
      .join('\n');
  }

  async stopAll(): Promise<void> {
    this.closed = true;
    this.resumeCopy();
    await Promise.all([...this.procs.keys()].map((name) => this.kill(name, 'SIGKILL')));
  }

  private async launch(name: string, kind: 'worker' | 'api', args: string[], port: number): Promise<FleetProcess> {
    const env: NodeJS.ProcessEnv = {
      ...this.env,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      RATE_LIMIT_PER_MINUTE: '0',
      MAX_SESSIONS_PER_EMAIL: '0',
      ...this.extraEnv,
      ...(kind === 'worker'
        ? {
            WORKER_HEALTH_PORT: String(port),
            FAULT_PAUSE_COPY_FILE: this.pauseCopyFile,
            NODE_OPTIONS: `${this.env.NODE_OPTIONS ?? ''} --import ${PAUSE_COPY_PRELOAD}`.trim(),
          }
        : { PORT: String(port) }),
    };
    const t0 = Date.now();
    const proc = runCli([kind, ...args], env);
    killChildOnExit(proc.child);
    const prev = this.procs.get(name);
    const fp: FleetProcess = {
      name,
      kind,
      port,
      args,
      proc,
      readyMs: 0,
      history: prev ? prev.history + prev.proc.output() + `\n--- ${name} restarted\n` : '',
      restarts: prev ? prev.restarts + 1 : 0,
      stopping: false,
    };
    this.procs.set(name, fp);
    void proc.exited.then((exit) => {
      if (fp.stopping || this.closed || this.procs.get(name) !== fp) return;
      const text = proc
        .output()
        .split('\n')
        .filter((l) => l.trim() && !l.startsWith('{'));
      const reason = text
        .filter((l) => !/^\s+at /.test(l))
        .slice(0, 4)
        .join(' | ');
      this.crashes.push({ name, at: Date.now(), exit, reason, detail: text.slice(0, 40).join('\n') });
      // Started again, as its supervisor would; a start that fails is a crash too.
      setTimeout(() => {
        if (!this.closed && this.procs.get(name) === fp) {
          this.launch(name, kind, args, port).catch((err: unknown) => {
            const reason = `restart failed: ${(err as Error).message.slice(0, 300)}`;
            this.crashes.push({ name, at: Date.now(), exit: -1, reason, detail: reason });
          });
        }
      }, 500);
    });
    // A worker logs `workers started`, then opens its health endpoint.
    const marker = kind === 'worker' ? 'worker health endpoint listening' : 'HTTP API listening';
    const deadline = Date.now() + pick(45_000, 90_000);
    while (!proc.output().includes(marker)) {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null)
        throw new Error(`${name} exited early:\n${proc.output()}`);
      if (Date.now() > deadline) {
        await proc.stop('SIGKILL');
        throw new Error(`${name} did not start in time:\n${proc.output()}`);
      }
      await sleep(20);
    }
    if (kind === 'worker') {
      const health = await httpJson('GET', `http://127.0.0.1:${port}/healthz`);
      if (health.status !== 200) throw new Error(`${name}: /healthz answered ${health.status} after start`);
    }
    fp.readyMs = Date.now() - t0;
    return fp;
  }
}

// ---------------------------------------------------------------------------
// The HTTP API, as a client sees it

export async function httpJson(
  method: string,
  url: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed };
}

let emailSeq = 0;
/**
 * POST /api/v1/demo-sessions; returns the new session id. A 503 is retried (`retries`
 * times): the API may answer 503 while the session was recorded anyway, which is why
 * the scenarios check every session of their database (`allSessionIds`), not only these.
 */
export async function postSession(apiUrl: string, profile = 'professional', retries = 5): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const r = await httpJson('POST', `${apiUrl}/api/v1/demo-sessions`, {
      demo_account_type: profile,
      email: `faults-${process.pid}-${++emailSeq}@example.com`,
      subscription_tier: 'professional',
    });
    if (r.status === 202) return (r.body as { session_id: string }).session_id;
    if (r.status !== 503 || attempt >= retries) throw new Error(`POST answered ${r.status}: ${JSON.stringify(r.body)}`);
    await sleep(500);
  }
}

/** Every session recorded in this harness' demo_sessions, oldest first. */
export async function allSessionIds(h: Harness): Promise<string[]> {
  const { rows } = await h.rt.dbs
    .pool('demo_session')
    .query<{ session_id: string }>('SELECT session_id FROM demo_sessions ORDER BY created_at');
  return rows.map((r) => r.session_id);
}

export async function getSession(apiUrl: string, id: string): Promise<SessionView> {
  const r = await httpJson('GET', `${apiUrl}/api/v1/demo-sessions/${id}`);
  if (r.status !== 200) throw new Error(`GET ${id} answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body as SessionView;
}

// ---------------------------------------------------------------------------
// PostgreSQL backends of the harness' databases

export interface Backend {
  pid: number;
  datname: string;
  client_port: number | null;
  state: string | null;
  query: string;
  wait_event: string | null;
  wait_event_type: string | null;
  application_name: string;
}

/** Backends of this harness' databases only (datname starts with DB_NAME_PREFIX), so other tests are never touched. */
export async function backends(
  h: Harness,
  where: { queryLike?: string; state?: string; datname?: string } = {},
): Promise<Backend[]> {
  const { rows } = await h.rt.dbs.pool('demo_session').query<Backend>(
    `SELECT pid, datname, client_port, state, query, wait_event, wait_event_type, application_name FROM pg_stat_activity
     WHERE datname LIKE $1 AND pid <> pg_backend_pid() AND application_name LIKE 'demo-seed:%'
       AND ($2::text IS NULL OR query LIKE $2) AND ($3::text IS NULL OR state = $3) AND ($4::text IS NULL OR datname = $4)`,
    [
      `${h.cfg.DB_NAME_PREFIX.replace(/_/g, '\\_')}%`,
      where.queryLike ?? null,
      where.state ?? null,
      where.datname ?? null,
    ],
  );
  return rows;
}

export async function terminateBackend(
  h: Harness,
  pid: number,
  opts: { waitForExit?: boolean } = {},
): Promise<boolean> {
  // waitForExit: PostgreSQL waits until the backend has exited. Until then a transaction it
  // committed but was still waiting in (a COMMIT held for a standby) counts as running, and
  // its rows are not yet visible to the caller's next query.
  const sql = opts.waitForExit
    ? 'SELECT pg_terminate_backend($1, 10000) AS ok'
    : 'SELECT pg_terminate_backend($1) AS ok';
  const { rows } = await h.rt.dbs.pool('demo_session').query<{ ok: boolean }>(sql, [pid]);
  return rows[0]?.ok === true;
}

/**
 * Opens a window inside COMMIT, in this harness' own databases: a deferred constraint
 * trigger on the marker table, armed per session and database, that sleeps 4 s in the
 * COMMIT of a load (`slow`: the commit is not durable yet), or raises that transaction's
 * synchronous_commit so that with `synchronous_standby_names = ghost` (a standby that never
 * comes; every other transaction commits `local`) the commit is written and then waits
 * for the standby (`ack`: durable, but the worker will not hear of it).
 */
export async function installCommitFaults(h: Harness, services: readonly string[] = SERVICES): Promise<void> {
  for (const s of services) {
    await h.rt.dbs.pool(s as (typeof SERVICES)[number]).query(`
      CREATE TABLE IF NOT EXISTS demo_seed.fault_flags (session_id uuid NOT NULL, kind text NOT NULL, PRIMARY KEY (session_id, kind));
      CREATE OR REPLACE FUNCTION demo_seed.commit_fault() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM demo_seed.fault_flags WHERE session_id = NEW.session_id AND kind = 'slow') THEN
          PERFORM pg_sleep(4);
        END IF;
        IF EXISTS (SELECT 1 FROM demo_seed.fault_flags WHERE session_id = NEW.session_id AND kind = 'ack') THEN
          PERFORM set_config('synchronous_commit', 'remote_write', true);
        END IF;
        RETURN NULL;
      END $$;
      DROP TRIGGER IF EXISTS commit_fault ON demo_seed.session_loads;
      CREATE CONSTRAINT TRIGGER commit_fault AFTER INSERT OR UPDATE ON demo_seed.session_loads
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION demo_seed.commit_fault();
      -- ALWAYS: the loads run as replica (LOAD_FK_CHECKS=skip), where ordinary triggers do not fire.
      ALTER TABLE demo_seed.session_loads ENABLE ALWAYS TRIGGER commit_fault;`);
  }
}

export async function armCommitFault(
  h: Harness,
  service: (typeof SERVICES)[number],
  sessionId: string,
  kind: 'slow' | 'ack',
): Promise<void> {
  await h.rt.dbs
    .pool(service)
    .query('INSERT INTO demo_seed.fault_flags (session_id, kind) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      sessionId,
      kind,
    ]);
}

export async function disarmCommitFault(
  h: Harness,
  service: (typeof SERVICES)[number],
  sessionId: string,
): Promise<void> {
  await h.rt.dbs.pool(service).query('DELETE FROM demo_seed.fault_flags WHERE session_id = $1', [sessionId]);
}

/**
 * Makes BullMQ fail a parent job (session or cleanup) for good, "stalled more than allowable
 * limit": while the caller holds the session's row (`SELECT … FOR UPDATE`), each run of the
 * job blocks on its UPDATE (`updateLike`), and its lock is taken away MAX_STALLED_COUNT + 1
 * times. The stale runs still blocked are then cut off. Returns the job's failedReason.
 */
export async function stallParentUntilFailed(h: Harness, jobId: string, updateLike: string): Promise<string> {
  const jobKey = `${h.cfg.QUEUE_PREFIX}:demo-session:${jobId}`;
  const blocked = async () =>
    (await backends(h, { datname: `${h.cfg.DB_NAME_PREFIX}demo_session`, queryLike: updateLike })).filter(
      (b) => b.wait_event_type === 'Lock',
    );
  const stalls = h.cfg.MAX_STALLED_COUNT + 1;
  for (let stall = 1; stall <= stalls; stall++) {
    await waitFor(
      `run ${stall} of ${jobId} to block on the session row`,
      async () => ((await blocked()).length >= stall ? true : undefined),
      60_000,
      20,
    );
    await h.rt.redis.del(`${jobKey}:lock`);
    await waitFor(
      `stall ${stall} of ${jobId} to be detected`,
      async () => (Number(await h.rt.redis.hget(jobKey, 'stc')) >= stall ? true : undefined),
      30_000,
      20,
    );
  }
  // The stale runs still blocked hold slots of the session queue: cut them off, so that a
  // worker is free to pick the job up again and fail it.
  for (const b of await blocked()) await terminateBackend(h, b.pid);
  try {
    return await waitFor(
      `${jobId} to fail for good`,
      async () => (await h.rt.redis.hget(jobKey, 'failedReason')) ?? undefined,
      30_000,
      20,
    );
  } catch (err) {
    const fields = await h.rt.redis.hgetall(jobKey);
    delete fields.data;
    delete fields.opts;
    const lists = Object.fromEntries(
      await Promise.all(
        ['wait', 'active'].map(
          async (l) => [l, await h.rt.redis.lrange(`${h.cfg.QUEUE_PREFIX}:demo-session:${l}`, 0, -1)] as const,
        ),
      ),
    );
    throw new Error(`${(err as Error).message}; job ${JSON.stringify(fields)}; queue ${JSON.stringify(lists)}`);
  }
}

/** The process (of the fleet) that owns the TCP socket whose local port is `clientPort`. */
export async function ownerOfClientPort(fleet: Fleet, clientPort: number): Promise<string | undefined> {
  const hexPort = clientPort.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(f, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1]?.endsWith(`:${hexPort}`) && cols[9]) inodes.add(cols[9]);
    }
  }
  for (const [pid, name] of fleet.pids()) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1] as string)) return name;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Private Redis and PostgreSQL servers (the shared ones on 6379 and 5432 are never restarted)

/** A redis-server of our own on a free port: `--save ""`, with or without AOF. */
export class OwnRedis {
  private child: ChildProcess | undefined;
  private readonly tmp: { dir: string; remove(): void };
  output = '';

  private constructor(
    readonly port: number,
    readonly aof: boolean,
  ) {
    this.tmp = tempDir(`redis-${port}`);
  }

  static async start(opts: { aof: boolean }): Promise<OwnRedis> {
    const r = new OwnRedis(await freePort(), opts.aof);
    await r.start();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * Whether the sentinel key (plantSentinel) was there right after the last start:
   * clients reconnect and write new keys within milliseconds, so counting keys cannot
   * tell what the restart kept; a key nobody else writes can.
   */
  sentinelAtStart: boolean | undefined;

  /** Writes a key no process of the fleet ever writes, to see whether a restart keeps it. */
  plantSentinel(): void {
    execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), 'SET', SENTINEL_KEY, '1'], {
      encoding: 'utf8',
      timeout: 2000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  async start(): Promise<number> {
    const t0 = Date.now();
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--dir',
      this.tmp.dir,
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ];
    args.push(...(this.aof ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no']));
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (b: Buffer) => (this.output += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (this.output += b.toString()));
    killChildOnExit(child);
    this.child = child;
    await waitFor(`redis-server on ${this.port}`, () => (this.ping() ? true : undefined), 10_000, 20);
    this.sentinelAtStart =
      execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), 'EXISTS', SENTINEL_KEY], {
        encoding: 'utf8',
        timeout: 2000,
        stdio: ['ignore', 'pipe', 'pipe'],
      }).trim() === '1';
    return Date.now() - t0;
  }

  private ping(): boolean {
    try {
      return (
        execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), 'PING'], {
          encoding: 'utf8',
          timeout: 2000,
          stdio: ['ignore', 'pipe', 'pipe'],
        }).trim() === 'PONG'
      );
    } catch {
      return false;
    }
  }

  dbsize(): number {
    try {
      return Number(
        execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), 'DBSIZE'], {
          encoding: 'utf8',
          timeout: 2000,
          stdio: ['ignore', 'pipe', 'pipe'],
        }).trim(),
      );
    } catch {
      return -1;
    }
  }

  /** kill -9: what is in memory and not in the AOF is lost. */
  async kill9(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  }

  /** SIGSTOP / SIGCONT: the server stops answering, its connections stay open. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** SHUTDOWN NOSAVE: stops without writing a snapshot. */
  async shutdownNosave(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    try {
      execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), 'SHUTDOWN', 'NOSAVE'], { timeout: 5000 });
    } catch {
      // the connection drops as the server goes away
    }
    await gone;
  }

  async close(): Promise<void> {
    await this.kill9();
    this.tmp.remove();
  }
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

/** Runs a PostgreSQL binary as the postgres user (initdb refuses root). */
function asPostgres(bin: string, args: string[]): string {
  const isRoot = process.getuid?.() === 0;
  const [cmd, argv] = isRoot
    ? ['runuser', ['-u', 'postgres', '--', path.join(PG_BIN, bin), ...args]]
    : [path.join(PG_BIN, bin), args];
  return execFileSync(cmd as string, argv as string[], {
    encoding: 'utf8',
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A throw-away PostgreSQL cluster (initdb) on a free port, that may be stopped and started. */
export class OwnPostgres {
  private readonly tmp: { dir: string; remove(): void };
  private offExit: (() => void) | undefined;

  private constructor(
    readonly port: number,
    private readonly settings: readonly string[],
  ) {
    this.tmp = tempDir(`pg-${port}`);
    if (process.getuid?.() === 0) chownSync(this.tmp.dir, uidOf('postgres'), gidOf('postgres'));
  }

  /** `settings`: extra `name=value` server settings (`-c`). */
  static async create(settings: readonly string[] = []): Promise<OwnPostgres> {
    const pgs = new OwnPostgres(await freePort(), settings);
    asPostgres('initdb', [
      '-D',
      pgs.dataDir,
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
      '-E',
      'UTF8',
      '--locale',
      'C',
    ]);
    await pgs.start();
    return pgs;
  }

  get dataDir(): string {
    return path.join(this.tmp.dir, 'data');
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** pg_ctl start -w; returns ms until it accepts connections. */
  async start(): Promise<number> {
    const t0 = Date.now();
    const opts = [
      `-p ${this.port} -k ${this.tmp.dir} -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off`,
      ...this.settings.map((x) => `-c ${x}`),
    ].join(' ');
    asPostgres('pg_ctl', [
      '-D',
      this.dataDir,
      '-o',
      opts,
      '-l',
      path.join(this.tmp.dir, 'log'),
      '-w',
      '-t',
      '60',
      'start',
    ]);
    this.offExit ??= onExit(() => {
      try {
        asPostgres('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // not running
      }
    });
    return Date.now() - t0;
  }

  /** pg_ctl stop: `fast` (clients disconnected, clean shutdown) or `immediate` (like a crash). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    asPostgres('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  /** Runs SQL on its postgres database as superuser (ALTER SYSTEM and the like). */
  psql(sql: string): string {
    return execFileSync(
      'psql',
      ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-d', 'postgres', '-Atqc', sql],
      { encoding: 'utf8', timeout: 30_000 },
    );
  }

  async destroy(): Promise<void> {
    try {
      await this.stop('immediate');
    } catch {
      // already stopped
    }
    this.offExit?.();
    this.tmp.remove();
  }
}

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}
function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
}

// ---------------------------------------------------------------------------
// A scenario's world: its own PostgreSQL cluster and Redis server, a harness on them, a fleet

export interface World {
  readonly pg: OwnPostgres;
  readonly redis: OwnRedis;
  readonly h: Harness;
  readonly fleet: Fleet;
  close(): Promise<void>;
}

/**
 * Every scenario runs on a private PostgreSQL cluster and a private Redis: the
 * shared servers (5432, 6379) are never restarted nor loaded with this suite's
 * hundreds of connections (3 worker processes hold up to 11 x WORKER_CONCURRENCY of
 * them while loading; the shared cluster allows 100 for every test running).
 */
export async function createWorld(
  opts: { aof?: boolean; pgSettings?: string[]; overrides?: Record<string, string> } = {},
): Promise<World> {
  const [pgs, redis] = await Promise.all([
    OwnPostgres.create(opts.pgSettings),
    OwnRedis.start({ aof: opts.aof ?? false }),
  ]);
  let h: Harness;
  try {
    h = await createHarness({ ...FAST_RECOVERY, DATABASE_URL: pgs.url, REDIS_URL: redis.url, ...opts.overrides });
  } catch (err) {
    await Promise.all([pgs.destroy(), redis.close()]);
    throw err;
  }
  const fleet = new Fleet(h.env);
  return {
    pg: pgs,
    redis,
    h,
    fleet,
    async close() {
      await fleet.stopAll();
      await h.rt.close().catch(() => undefined);
      await Promise.all([pgs.destroy(), redis.close()]);
    },
  };
}

/** After a failed test, prints the tail of every process' output (call inside a describe). */
export function dumpLogsOnFailure(world: () => World | undefined, lines = 40): void {
  afterEach((ctx) => {
    const w = world();
    if (ctx.task.result?.state !== 'fail' || !w) return;
    const crashes = w.fleet.crashes
      .map((c) => `--- ${c.name} crashed at ${new Date(c.at).toISOString()}\n${c.detail}`)
      .join('\n');
    console.log(`process output after the failure:\n${w.fleet.tails(lines)}\n${crashes}`);
  });
}

/**
 * The world of one scenario file, set up by its hooks: a professional profile generated
 * with `seed` and `scale`, a world on it (`world`: AOF, PostgreSQL settings; `overrides`
 * on top of SEED_DATA_DIR), `prepare` before the fleet starts, the API and `workers`
 * worker processes (w1, w2, ...), optionally a first session loaded (the API parses the
 * profile on its first POST); all of it removed after the file, logs printed on a failure.
 * `w` and `facts` are there once beforeAll has run.
 */
export function scenarioWorld(o: {
  tag: string;
  seed: number;
  scale: number;
  workers: number;
  world?: { aof?: boolean; pgSettings?: string[] };
  overrides?: Record<string, string>;
  prepare?: (w: World) => Promise<void>;
  firstSession?: boolean;
}): { readonly w: World; readonly facts: ProfileFacts } {
  const data = tempDir(o.tag);
  const s = {} as { w: World; facts: ProfileFacts };
  beforeAll(async () => {
    await generateProfile({
      profile: 'professional',
      seed: o.seed,
      scale: o.scale,
      out: path.join(data.dir, 'professional'),
    });
    s.w = await createWorld({ ...o.world, overrides: { SEED_DATA_DIR: data.dir, ...o.overrides } });
    await o.prepare?.(s.w);
    await Promise.all([s.w.fleet.api(), ...Array.from({ length: o.workers }, (_, i) => s.w.fleet.worker(`w${i + 1}`))]);
    s.facts = await profileFacts('professional', data.dir);
    if (o.firstSession) await waitForAll(s.w.h, [await postSession(s.w.fleet.url())], 120_000);
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await s.w?.close();
    data.remove();
  }, HOOK_TIMEOUT_MS);
  dumpLogsOnFailure(() => s.w);
  return s;
}

// ---------------------------------------------------------------------------
// The data rules, for a session at its end

export interface ProfileFacts {
  readonly profile: string;
  readonly dataDir: string | undefined;
  readonly manifest: Manifest;
  /** Every uuid of the seed files: none may be loaded. */
  readonly seedIds: Set<string>;
  /** Rows per service, from the manifest. */
  readonly serviceRows: Record<string, number>;
}

export async function profileFacts(profile: string, dataDir?: string): Promise<ProfileFacts> {
  const manifest = await readManifest(profile, dataDir);
  const seedIds = allUuidsIn(await profileRecords(profile, dataDir));
  const serviceRows = Object.fromEntries(
    SERVICES.map((s) => [s, Object.values(manifest.counts[s] ?? {}).reduce((a, b) => a + b, 0)]),
  );
  return { profile, dataDir, manifest, seedIds, serviceRows };
}

let uuidCols: Map<string, string[]> | undefined;

export interface CheckOptions {
  /** End states this scenario accepts (default: ready or failed). */
  accept?: readonly string[];
  /** Check the session's ID maps are gone from Redis (skip when Redis is unreachable on purpose). */
  redis?: boolean;
}

/**
 * Asserts the contract for a session that has ended: either `ready`, with exactly the
 * manifest's rows per service and table, every data rule holding and a `loaded` marker
 * recording those counts in each database; or `failed`/`destroyed`/`expired`, with no row
 * left in any database, no `loaded` marker and no ID map in Redis.
 */
export async function checkSession(
  h: Harness,
  id: string,
  facts: ProfileFacts,
  opts: CheckOptions = {},
): Promise<SessionView> {
  const v = await h.rt.producer.view(id);
  expect(v, `session ${id} exists`).toBeDefined();
  const view = v as SessionView;
  const accept = opts.accept ?? ['ready', 'failed'];
  expect(accept, `session ${id} ended ${view.status} (${view.error ?? ''})`).toContain(view.status);
  const markers = await loadMarkers(h, id);

  if (view.status === 'ready') {
    const rows = await sessionRows(h.rt.dbs, view.tenant_ids);
    // Exact counts: a duplicated row, a missing one, a table loaded twice all show here.
    expect(countsOf(rows), `row counts of ${id}`).toEqual(facts.manifest.counts);
    for (const s of SERVICES) {
      expect(view.services[s].status, `${id} ${s}`).toBe('ready');
      expect(view.services[s].rows, `${id} ${s} rows`).toBe(facts.serviceRows[s]);
      const m = markers.get(s);
      expect(m?.state, `${id} ${s} marker`).toBe('loaded');
      const recorded = Object.fromEntries(Object.entries(m?.rows ?? {}).map(([t, r]) => [t, r.rows]));
      expect(recorded, `${id} ${s} marker counts`).toEqual(facts.manifest.counts[s] ?? {});
    }
    expect(Object.keys(view.phases).sort()).toEqual(['1', '2', '3', '4']);
    // Tenants: the manifest's, the main one first, children under it.
    const tenants = rows.get('tenant.tenants') ?? [];
    expect(view.tenant_ids).toHaveLength(facts.manifest.tenants.length);
    expect(tenants.map((t) => t.id).sort()).toEqual([...view.tenant_ids].sort());
    for (const t of tenants) expect(t.parent_tenant_id).toBe(t.id === view.tenant_id ? null : view.tenant_id);
    // New ids only, and every uuid points inside the session.
    const loaded = allUuidsIn([...rows.values()]);
    const reused = [...loaded].filter((x) => facts.seedIds.has(x));
    expect(reused, `${id} reuses seed ids`).toEqual([]);
    uuidCols ??= await uuidColumns(h.rt.dbs);
    const own = new Set<string>([view.session_id, ...view.tenant_ids]);
    for (const list of rows.values()) for (const r of list) own.add(r.id as string);
    const dangling: string[] = [];
    for (const [table, list] of rows) {
      for (const r of list) {
        for (const c of uuidCols.get(table) ?? []) {
          if (r[c] !== null && !own.has(r[c] as string)) dangling.push(`${table}.${c}=${String(r[c])}`);
        }
      }
    }
    expect(dangling.slice(0, 5), `${id}: ${dangling.length} references leave the session`).toEqual([]);
    // Dates: history ends on the creation day (UTC) and reaches back history_days; forecasts lie after.
    const today = utcDay(new Date(view.created_at));
    const sales = (rows.get('sales.sales_daily') ?? []).map((r) => r.sale_date as string).sort();
    expect(sales.at(-1)).toBe(today);
    expect(sales[0]).toBe(formatDay(parseDay(today) - (facts.manifest.history_days - 1)));
    for (const r of rows.get('forecasting.forecasts') ?? []) expect((r.forecast_date as string) > today).toBe(true);
  } else {
    expect(await leftoverCount(h.rt.dbs, view.tenant_ids), `rows left by ${view.status} session ${id}`).toBe(0);
    const loadedMarkers = [...markers].filter(([, m]) => m.state === 'loaded').map(([s]) => s);
    expect(loadedMarkers, `${view.status} session ${id} still has loaded markers`).toEqual([]);
    if (opts.redis !== false) {
      const maps = sessionKeys(h.cfg.QUEUE_PREFIX, id).filter((k) => k !== progressKey(h.cfg.QUEUE_PREFIX, id));
      expect(await h.rt.redis.exists(...maps), `ID maps left in Redis by ${view.status} session ${id}`).toBe(0);
    }
    if (view.status === 'failed') expect(view.error, `failed session ${id} says why`).toBeTruthy();
    for (const s of SERVICES) expect(view.services[s].status, `${id} ${s}`).not.toBe('ready');
  }
  return view;
}

/** The load marker of a session in each service database. */
export async function loadMarkers(
  h: Harness,
  id: string,
): Promise<Map<string, { state: string; rows: Record<string, { rows: number }> }>> {
  const out = new Map<string, { state: string; rows: Record<string, { rows: number }> }>();
  await Promise.all(
    SERVICES.map(async (s) => {
      const { rows } = await h.rt.dbs
        .pool(s)
        .query<{ state: string; rows: Record<string, { rows: number }> }>(
          'SELECT state, rows FROM demo_seed.session_loads WHERE session_id = $1',
          [id],
        );
      if (rows[0]) out.set(s, rows[0]);
    }),
  );
  return out;
}

/** Checks every session; returns how many ended in each state, and why those that failed did. */
export async function checkSessions(
  h: Harness,
  ids: readonly string[],
  facts: ProfileFacts,
  opts: CheckOptions = {},
): Promise<Record<string, number>> {
  const tally: Record<string, number> = {};
  const errors = new Map<string, number>();
  for (const id of ids) {
    const v = await checkSession(h, id, facts, opts);
    tally[v.status] = (tally[v.status] ?? 0) + 1;
    if (v.error) {
      const e = v.error.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>');
      errors.set(e, (errors.get(e) ?? 0) + 1);
    }
  }
  if (errors.size > 0) console.log(`why sessions failed:\n${[...errors].map(([e, n]) => `  ${n} x ${e}`).join('\n')}`);
  return tally;
}

export interface Ended {
  view: SessionView;
  endedAt: number;
}

/**
 * Waits until every session is in one of `statuses` (default: an end state); fails
 * naming each one still unfinished after `boundMs` (the scenario's stated bound).
 */
export async function waitForAll(
  h: Harness,
  ids: readonly string[],
  boundMs: number,
  statuses: readonly string[] = FINAL,
): Promise<Map<string, Ended>> {
  const deadline = Date.now() + boundMs;
  const ended = new Map<string, Ended>();
  for (;;) {
    for (const id of ids) {
      if (ended.has(id)) continue;
      const v = await h.rt.producer.view(id).catch(() => undefined);
      if (v && statuses.includes(v.status)) ended.set(id, { view: v, endedAt: Date.now() });
    }
    if (ended.size === ids.length) return ended;
    if (Date.now() > deadline) {
      const stuck: string[] = [];
      for (const id of ids) {
        if (ended.has(id)) continue;
        const v = await h.rt.producer.view(id).catch((e: unknown) => (e as Error).message);
        if (typeof v !== 'object') {
          stuck.push(`${id} unreadable: ${v ?? 'no such session'}`);
          continue;
        }
        const svc = Object.entries(v.services)
          .filter(([, x]) => x.status !== 'ready')
          .map(([s, x]) => `${s}:${x.status}`)
          .join(',');
        stuck.push(`${id} ${v.status} [${svc}]`);
      }
      throw new Error(
        `${stuck.length} of ${ids.length} sessions not ${statuses.join('/')} within ${boundMs} ms:\n${stuck.join('\n')}`,
      );
    }
    await sleep(100);
  }
}

/** The session's service loads Redis shows as in flight right now (progress `loading`). */
export async function loadingServices(h: Harness, ids: readonly string[]): Promise<Set<string>> {
  const pipe = h.rt.redis.pipeline();
  for (const id of ids) pipe.hgetall(progressKey(h.cfg.QUEUE_PREFIX, id));
  const res = (await pipe.exec()) ?? [];
  const out = new Set<string>();
  res.forEach(([err, value], i) => {
    if (err) return;
    for (const [svc, raw] of Object.entries((value ?? {}) as Record<string, string>)) {
      if ((JSON.parse(raw) as { status: string }).status === 'loading') out.add(`${ids[i]}/${svc}`);
    }
  });
  return out;
}

/** Whether a service of a session has published progress `ready`. */
export async function serviceReady(h: Harness, id: string, service: string): Promise<boolean> {
  const raw = await h.rt.redis.hget(progressKey(h.cfg.QUEUE_PREFIX, id), service);
  return raw !== null && (JSON.parse(raw) as { status: string }).status === 'ready';
}

// ---------------------------------------------------------------------------
// Which jobs a killed process held, and when they were done again

export interface ActiveJob {
  queue: string;
  id: string;
  token: string;
  /** Times the job had stalled (BullMQ's `stc`) when it was read. */
  stalls: number;
}

const QUEUES = ['demo-session', ...SERVICES];

/** Every active job, its lock token and stall count, read just before a fault. */
export async function activeJobs(h: Harness): Promise<ActiveJob[]> {
  const p = h.cfg.QUEUE_PREFIX;
  const ids = await Promise.all(QUEUES.map((q) => h.rt.redis.lrange(`${p}:${q}:active`, 0, -1)));
  const jobs = QUEUES.flatMap((q, i) => (ids[i] ?? []).map((id) => ({ queue: q, id })));
  if (jobs.length === 0) return [];
  const pipe = h.rt.redis.pipeline();
  for (const j of jobs) pipe.get(`${p}:${j.queue}:${j.id}:lock`).hget(`${p}:${j.queue}:${j.id}`, 'stc');
  const res = ((await pipe.exec()) ?? []).map(([, v]) => v as string | null);
  return jobs.flatMap((j, i) => {
    const token = res[2 * i];
    return token ? [{ ...j, token, stalls: Number(res[2 * i + 1] ?? 0) }] : [];
  });
}

/**
 * Of the jobs active before a fault, those it orphaned: BullMQ's stalled checker found
 * their lock gone and moved them back to wait (their stall count went up). A job whose
 * lock is renewed (a live worker holds it) or that finished is not one of them.
 * Waits at most until the checker must have seen every expired lock.
 */
export async function orphanedJobs(
  h: Harness,
  before: readonly ActiveJob[],
): Promise<ActiveJob[] & { lastSeenAt?: number }> {
  const p = h.cfg.QUEUE_PREFIX;
  const open = new Set(before);
  const firstTtl = new Map<ActiveJob, number>();
  const orphans: ActiveJob[] & { lastSeenAt?: number } = [];
  const deadline = Date.now() + h.cfg.LOCK_DURATION_MS + 2 * h.cfg.STALLED_INTERVAL_MS + 1500;
  while (open.size > 0 && Date.now() < deadline) {
    const list = [...open];
    const pipe = h.rt.redis.pipeline();
    for (const j of list) {
      const key = `${p}:${j.queue}:${j.id}`;
      pipe.get(`${key}:lock`).pttl(`${key}:lock`).hmget(key, 'stc', 'finishedOn');
    }
    const res = ((await pipe.exec()) ?? []).map(([, v]) => v);
    list.forEach((j, i) => {
      const [token, ttl, [stc, finished]] = [
        res[3 * i] as string | null,
        res[3 * i + 1] as number,
        res[3 * i + 2] as [string | null, string | null],
      ];
      if (Number(stc ?? 0) > j.stalls) {
        open.delete(j);
        orphans.push(j);
        orphans.lastSeenAt = Date.now(); // handed out again: when the last of them was
      } else if (finished) {
        open.delete(j);
      } else if (token === j.token) {
        const t0 = firstTtl.get(j);
        if (t0 === undefined) firstTtl.set(j, ttl);
        else if (ttl > t0) open.delete(j); // renewed: a live worker holds it
      }
    });
    await sleep(100);
  }
  return orphans;
}

/** Resolves with the ms from `since` until every job is finished (completed or failed for good), removed, or its session ended. */
export async function jobsDone(
  h: Harness,
  jobs: readonly ActiveJob[],
  since: number,
  timeoutMs: number,
): Promise<number> {
  const p = h.cfg.QUEUE_PREFIX;
  let last = since;
  for (const j of jobs) {
    const sessionId = j.id.slice(0, 36);
    await waitFor(
      `job ${j.queue}:${j.id} to be done again`,
      async () => {
        const [finished] = await h.rt.redis.hmget(`${p}:${j.queue}:${j.id}`, 'finishedOn');
        if (finished) {
          last = Math.max(last, Number(finished));
          return true;
        }
        if ((await h.rt.redis.exists(`${p}:${j.queue}:${j.id}`)) === 0) {
          last = Math.max(last, Date.now());
          return true;
        }
        const v = await h.rt.producer.view(sessionId);
        if (v && FINAL.includes(v.status as (typeof FINAL)[number])) {
          last = Math.max(last, Date.now());
          return true;
        }
        return undefined;
      },
      timeoutMs,
      50,
    );
  }
  return last - since;
}

/** Jobs whose attempt failed (worker log `job attempt failed`) with an error matching `pattern`, logged at or after `since`. */
export async function failedAttempts(fleet: Fleet, pattern: RegExp, since = 0): Promise<ActiveJob[]> {
  const seen = new Map<string, ActiveJob>();
  for (const l of await fleet.settledLogLines(
    (x) => x.msg === 'job attempt failed' && pattern.test(String(x.err)) && Date.parse(String(x.time)) >= since,
  )) {
    const queue = String(l.queue)
      .replace(/^demo-seed-/, '')
      .replace(/^session$/, 'demo-session');
    const id = String(l.job_id);
    seen.set(`${queue}:${id}`, { queue, id, token: '', stalls: 0 });
  }
  return [...seen.values()];
}

/** A Redis client of its own (for a private server, or to delete keys behind the workers' back). */
export function redisClient(url: string): Redis {
  const r = new Redis(url, {
    maxRetriesPerRequest: 1,
    lazyConnect: false,
    retryStrategy: (n) => Math.min(n * 100, 1000),
  });
  r.on('error', () => undefined);
  return r;
}
