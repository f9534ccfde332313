import { WaitingChildrenError, type FlowProducer, type Job } from 'bullmq';
import {
  dependenciesDone,
  PHASES,
  SERVICES,
  servicesOfPhase,
  type Phase,
  type ServiceName,
} from '../catalog/services.ts';
import { serviceJobs } from '../flows/build-flow.ts';
import type {
  PhaseSummary,
  ServiceJobResult,
  ServiceLoadFigures,
  SessionJobData,
  SessionJobResult,
} from '../flows/jobs.ts';
import { getSession, markFailed, markReady, type SessionRecord } from '../db/sql/sessions.ts';
import type { WorkerContext } from '../runtime/context.ts';
import { removeSessionData } from '../sessions/remove-session-data.ts';
import { queueOfJobKey } from '../flows/queue-keys.ts';

/**
 * The parent job of a session's flow. It runs once none of its children is waiting or
 * running: normally when all 11 services are done (each service job adds the services
 * it completes the dependencies of, see service-job.ts), and the session is then
 * ready. Should a service not have been added (its adder crashed between publishing
 * and adding), this job adds every service whose dependencies have all completed and
 * waits again (moveToWaitingChildren + WaitingChildrenError). When a service failed
 * for good (its failure is recorded on this job, see ignoreDependencyOnFailure) every
 * row the session loaded is removed and the session fails with that service's error.
 */
export async function runSession(
  job: Job<SessionJobData, SessionJobResult>,
  token: string | undefined,
  w: WorkerContext,
  flows: FlowProducer,
): Promise<SessionJobResult> {
  const d = job.data;
  let [results, failures] = await Promise.all([childResults(job), job.getIgnoredChildrenFailures()]);
  let session: SessionRecord | undefined;
  for (;;) {
    const failed = Object.keys(failures).length > 0;
    const pending = SERVICES.filter((s) => !results.has(s));
    // Marking the session ready checks on its own that it is still loading; the other
    // ways on (failing it, starting services) read its record first.
    if (!failed && pending.length === 0) return finishSession(job, w, results);
    if (!session) {
      session = await sessionRecord(w, d.sessionId);
      if (session.status !== 'pending' && session.status !== 'loading')
        return noLongerLoading(w, d, session.status, results);
      // The record stays `pending` until it ends: the API shows `loading` once a service has started.
    }
    if (failed) return failSession(job, w, session, results, failures);

    const ready = pending.filter((s) => dependenciesDone(s, results));
    const parent = { id: job.id as string, queue: job.queueQualifiedName };
    // Job ids are fixed per session and service: adding a job that exists already is a no-op.
    w.log.info({ session_id: d.sessionId, services: ready }, 'session job starts services its children did not');
    await flows.addBulk(serviceJobs(w.cfg, d, ready, parent));
    if (await job.moveToWaitingChildren(token ?? '')) throw new WaitingChildrenError();
    // Every child finished before we could wait: look again.
    [results, failures] = await Promise.all([childResults(job), job.getIgnoredChildrenFailures()]);
  }
}

async function sessionRecord(w: WorkerContext, sessionId: string): Promise<SessionRecord> {
  const session = await getSession(w.dbs.pool('demo_session'), sessionId);
  if (!session) throw new Error(`session ${sessionId} has no record in demo_sessions`);
  return session;
}

/** Destroyed, expired or failed (timed out) while loading: the cleanup owns it now. */
function noLongerLoading(
  w: WorkerContext,
  d: SessionJobData,
  status: string,
  results: ReadonlyMap<ServiceName, ServiceJobResult>,
): SessionJobResult {
  w.log.info({ session_id: d.sessionId, status }, 'session no longer loading; its flow stops');
  return { status: 'destroyed', profile: d.profile, services: loadFigures(results) };
}

/** Each loaded service's rows and working time, for the API's metrics. */
function loadFigures(results: ReadonlyMap<ServiceName, ServiceJobResult>): Record<string, ServiceLoadFigures> {
  return Object.fromEntries([...results].map(([s, r]) => [s, { rows: r.rows, duration_ms: r.duration_ms }]));
}

async function childResults(job: Job): Promise<Map<ServiceName, ServiceJobResult>> {
  const values = await job.getChildrenValues<ServiceJobResult>();
  return new Map(Object.values(values).map((r) => [r.service, r]));
}

function phaseSummary(
  phase: Phase,
  results: ReadonlyMap<ServiceName, ServiceJobResult>,
  createdAt: number,
): PhaseSummary {
  const rs = servicesOfPhase(phase).flatMap((s) => results.get(s) ?? []);
  const started = phase === 1 ? createdAt : Math.min(...rs.map((r) => r.queued_at));
  const finished = Math.max(...rs.map((r) => r.finished_at));
  return {
    phase,
    services: servicesOfPhase(phase),
    rows: rs.reduce((n, r) => n + r.rows, 0),
    started_at: started,
    finished_at: finished,
    duration_ms: finished - started,
  };
}

async function finishSession(
  job: Job<SessionJobData, SessionJobResult>,
  w: WorkerContext,
  results: Map<ServiceName, ServiceJobResult>,
): Promise<SessionJobResult> {
  const d = job.data;
  const createdAt = Date.parse(d.createdAt);
  const phases = Object.fromEntries(PHASES.map((p) => [p, phaseSummary(p, results, createdAt)]));
  const readyAt = new Date(Math.max(...[...results.values()].map((r) => r.finished_at)));
  const durationMs = readyAt.getTime() - createdAt;
  const moved = await markReady(w.dbs.pool('demo_session'), d.sessionId, {
    readyAt,
    durationMs,
    services: Object.fromEntries(results),
    phases,
  });
  if (!moved) return noLongerLoading(w, d, (await sessionRecord(w, d.sessionId)).status, results);
  const rows = [...results.values()].reduce((n, r) => n + r.rows, 0);
  // In the order the phases finished (a later phase's services may finish first).
  for (const s of Object.values(phases).sort((a, b) => a.finished_at - b.finished_at)) {
    w.log.info(
      { session_id: d.sessionId, phase: s.phase, services: s.services, rows: s.rows, duration_ms: s.duration_ms },
      `Phase ${s.phase} completed`,
    );
  }
  w.log.info({ session_id: d.sessionId, profile: d.profile, rows, duration_ms: durationMs }, 'session ready');
  return { status: 'ready', profile: d.profile, duration_ms: durationMs, services: loadFigures(results) };
}

async function failSession(
  job: Job<SessionJobData, SessionJobResult>,
  w: WorkerContext,
  session: SessionRecord,
  results: Map<ServiceName, ServiceJobResult>,
  failures: Record<string, string>,
): Promise<SessionJobResult> {
  const d = job.data;
  // A failed child's queue is its service.
  const error = Object.entries(failures)
    .map(([key, reason]) => `${queueOfJobKey(w.cfg.QUEUE_PREFIX, key) ?? key}: ${reason}`)
    .join('; ');
  w.log.warn({ session_id: d.sessionId, error }, 'session failed; removing its rows');
  // The record's tenants, not the job's (its data may have been written by hand).
  const deleted = await removeSessionData(w, session);
  await markFailed(w.dbs.pool('demo_session'), d.sessionId, error, Object.fromEntries(results));
  w.log.info({ session_id: d.sessionId, deleted }, 'failed session cleaned up');
  return { status: 'failed', error, profile: d.profile, services: loadFigures(results) };
}
