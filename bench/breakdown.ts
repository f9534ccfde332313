import type pg from 'pg';
import { SERVICES, SERVICE_SPECS } from '../src/catalog/services.ts';
import type { ServiceJobResult } from '../src/flows/jobs.ts';
import { medianIndex, percentile } from './stats.ts';

/**
 * Where the time of a professional session goes, from its record in the bench's
 * demo_session database (`demo_sessions.services`: queued_at, started_at, finished_at,
 * duration_ms and wave per service). All instants are epoch ms on one machine, so the
 * client's (POST sent, ready seen) and the workers' clocks can be compared.
 */
export interface SessionTiming {
  readonly session_id: string;
  readonly created_at: number;
  /** The last service's finished_at (what `duration_ms` counts to). */
  readonly ready_at: number;
  /** When the session job wrote `ready` (updated_at of that UPDATE). */
  readonly marked_ready_at: number;
  readonly duration_ms: number;
  readonly services: Record<string, ServiceJobResult>;
  readonly phases: Record<string, { rows: number; started_at: number; finished_at: number; duration_ms: number }>;
  readonly posted_at: number;
  readonly seen_ready_at: number;
}

export async function readTiming(
  db: pg.Pool,
  sessionId: string,
  client: { posted_at: number; seen_ready_at: number },
): Promise<SessionTiming> {
  const { rows } = await db.query<{
    created_at: Date;
    ready_at: Date;
    updated_at: Date;
    duration_ms: number;
    services: SessionTiming['services'];
    phases: SessionTiming['phases'];
  }>(
    'SELECT created_at, ready_at, updated_at, duration_ms, services, phases FROM demo_sessions WHERE session_id = $1',
    [sessionId],
  );
  const r = rows[0];
  if (!r) throw new Error(`session ${sessionId} has no record`);
  return {
    session_id: sessionId,
    created_at: r.created_at.getTime(),
    ready_at: r.ready_at.getTime(),
    marked_ready_at: r.updated_at.getTime(),
    duration_ms: r.duration_ms,
    services: r.services,
    phases: r.phases,
    ...client,
  };
}

/** The stages a session's latency is made of, along its critical path (they add up to the client's latency). */
export const STAGES = [
  ['api', 'POST sent → session recorded (API, INSERT)'],
  ['enqueue', 'recorded → first service queued (flow added to Redis)'],
  ['queue_wait', 'queue wait of each service on the critical path'],
  ['work', 'work of each service on the critical path'],
  ['handoffs', 'a service done → the next on the path queued (its job adds it)'],
  ['mark_ready', 'last service done → session marked ready'],
  ['client_seen', 'marked ready → client sees it (event stream)'],
] as const;
export type Stage = (typeof STAGES)[number][0];

export interface ServiceRow {
  readonly service: string;
  readonly phase: number;
  readonly wave: number;
  readonly rows: number;
  /** Relative to the session's created_at. */
  readonly queued_ms: number;
  readonly started_ms: number;
  readonly finished_ms: number;
  readonly wait_ms: number;
  readonly work_ms: number;
  /** Across every measured professional session. */
  readonly p50_wait_ms: number;
  readonly p50_work_ms: number;
}

/** A service on the critical path: the last to finish, then, going back, the dependency each waited for last. */
export interface PathRow {
  readonly service: string;
  /** The previous service's finish (creation, for the first) → this one queued. */
  readonly handoff_ms: number;
  readonly queued_ms: number;
  readonly wait_ms: number;
  readonly work_ms: number;
  readonly finished_ms: number;
}

export interface Breakdown {
  readonly session_id: string;
  readonly sessions: number;
  readonly client_ms: number;
  readonly server_ms: number;
  readonly services: ServiceRow[];
  readonly critical_path: PathRow[];
  readonly phases: Array<{ phase: number; rows: number; started_ms: number; finished_ms: number; duration_ms: number }>;
  /** The median session's stages, and the median of each stage over every session. */
  readonly stages: Array<{ stage: Stage; label: string; ms: number; p50_ms: number }>;
  /** Σ over services of queue wait and of work (not only the critical path), p50 over sessions. */
  readonly totals: { wait_ms: number; work_ms: number };
}

/**
 * The chain of services that decided when the session was ready: the service that
 * finished last, the one of its dependencies that finished last, and so on back to
 * a service without dependencies.
 */
export function criticalPath(t: SessionTiming): PathRow[] {
  const job = (s: string) => t.services[s] as ServiceJobResult;
  let last = Object.values(t.services).reduce((a, b) => (b.finished_at > a.finished_at ? b : a));
  const chain: ServiceJobResult[] = [last];
  for (;;) {
    const deps = SERVICE_SPECS[last.service].dependsOn.map(job);
    if (deps.length === 0) break;
    last = deps.reduce((a, b) => (b.finished_at > a.finished_at ? b : a));
    chain.unshift(last);
  }
  return chain.map((s, i) => ({
    service: s.service,
    handoff_ms: s.queued_at - (i === 0 ? t.created_at : (chain[i - 1] as ServiceJobResult).finished_at),
    queued_ms: s.queued_at - t.created_at,
    wait_ms: s.started_at - s.queued_at,
    work_ms: s.finished_at - s.started_at,
    finished_ms: s.finished_at - t.created_at,
  }));
}

function stagesOf(t: SessionTiming): Record<Stage, number> {
  const path = criticalPath(t);
  const sum = (f: (r: PathRow) => number) => path.reduce((n, r) => n + f(r), 0);
  return {
    api: t.created_at - t.posted_at,
    enqueue: (path[0] as PathRow).handoff_ms,
    queue_wait: sum((r) => r.wait_ms),
    work: sum((r) => r.work_ms),
    handoffs: sum((r) => r.handoff_ms) - (path[0] as PathRow).handoff_ms,
    mark_ready: t.marked_ready_at - t.ready_at,
    client_seen: t.seen_ready_at - t.marked_ready_at,
  };
}

/** The breakdown of the median professional session (by server duration), with medians over all of them. */
export function breakdown(timings: readonly SessionTiming[]): Breakdown {
  if (timings.length === 0) throw new Error('no professional session to break down');
  const t = timings[medianIndex(timings.map((x) => x.duration_ms))] as SessionTiming;
  const p50Of = (f: (x: SessionTiming) => number) => percentile(timings.map(f), 50);
  const services: ServiceRow[] = SERVICES.map((name) => {
    const s = t.services[name] as ServiceJobResult;
    return {
      service: name,
      phase: SERVICE_SPECS[name].phase,
      wave: s.wave,
      rows: s.rows,
      queued_ms: s.queued_at - t.created_at,
      started_ms: s.started_at - t.created_at,
      finished_ms: s.finished_at - t.created_at,
      wait_ms: s.started_at - s.queued_at,
      work_ms: s.duration_ms,
      p50_wait_ms: p50Of(
        (x) => (x.services[name] as ServiceJobResult).started_at - (x.services[name] as ServiceJobResult).queued_at,
      ),
      p50_work_ms: p50Of((x) => (x.services[name] as ServiceJobResult).duration_ms),
    };
  });
  const own = stagesOf(t);
  const all = timings.map(stagesOf);
  const sum = (x: SessionTiming, f: (s: ServiceJobResult) => number) =>
    Object.values(x.services).reduce((n, s) => n + f(s), 0);
  return {
    session_id: t.session_id,
    sessions: timings.length,
    client_ms: t.seen_ready_at - t.posted_at,
    server_ms: t.duration_ms,
    services,
    critical_path: criticalPath(t),
    phases: Object.entries(t.phases)
      .map(([phase, p]) => ({
        phase: Number(phase),
        rows: p.rows,
        started_ms: p.started_at - t.created_at,
        finished_ms: p.finished_at - t.created_at,
        duration_ms: p.duration_ms,
      }))
      .sort((a, b) => a.phase - b.phase),
    stages: STAGES.map(([stage, label]) => ({
      stage,
      label,
      ms: own[stage],
      p50_ms: percentile(
        all.map((a) => a[stage]),
        50,
      ),
    })),
    totals: {
      wait_ms: p50Of((x) => sum(x, (s) => s.started_at - s.queued_at)),
      work_ms: p50Of((x) => sum(x, (s) => s.duration_ms)),
    },
  };
}
