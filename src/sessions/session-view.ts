import { SERVICES, type ServiceName } from '../catalog/services.ts';
import type { LoadState } from '../db/sql/session-loads.ts';
import type { ServiceJobResult } from '../flows/jobs.ts';
import type { SessionRecord, SessionStatus } from '../db/sql/sessions.ts';

export interface ServiceView {
  /** `removed`: it had loaded, and the session's rows are gone since (failed, destroyed or expired). */
  status: 'pending' | 'loading' | 'ready' | 'failed' | 'removed';
  rows: number;
  duration_ms: number | null;
  tables?: Record<string, { rows: number; duration_ms: number }>;
  error?: string;
}

export interface SessionView {
  session_id: string;
  status: SessionStatus;
  demo_account_type: string;
  subscription_tier: string | null;
  tenant_id: string;
  tenant_ids: string[];
  created_at: string;
  expires_at: string;
  ready_at: string | null;
  duration_ms: number | null;
  error: string | null;
  /** The OpenTelemetry trace of the request that created it; null when tracing was off. */
  trace_id: string | null;
  phases: SessionRecord['phases'];
  services: Record<ServiceName, ServiceView>;
}

/** Live progress of a loading session, per service, as workers write it to Redis. */
export type Progress = Partial<
  Record<string, { status: 'loading' | 'ready'; rows?: number; duration_ms?: number; tables?: ServiceView['tables'] }>
>;

/**
 * A session's view as read now and, while its services load, a way to read their
 * progress again without its record: the record does not change until the load ends
 * (or a destroy starts), and its job's events announce that.
 */
export interface SessionSnapshot {
  readonly view: SessionView;
  /** While loading: the same record with the live progress read again (Redis only). */
  readonly refresh?: () => Promise<SessionSnapshot>;
}

const GONE = new Set<SessionStatus>(['failed', 'destroyed', 'expired']);

/**
 * Progress as the service databases' load markers tell it (demo_seed.session_loads),
 * for when Redis, which holds the live progress, does not answer: a service whose
 * load committed is `ready` with its rows (the sum of the marker's rows per table; it
 * keeps no durations, so `duration_ms` is null and `tables` absent); one without a marker, or
 * with a tombstone, is left out (pending). Nothing shows as `loading`: an uncommitted
 * load is invisible to other readers.
 */
export function progressFromMarkers(markers: Partial<Record<ServiceName, LoadState | undefined>>): Progress {
  const progress: Progress = {};
  for (const [service, marker] of Object.entries(markers)) {
    if (marker?.state !== 'loaded') continue;
    progress[service] = { status: 'ready', rows: Object.values(marker.rows).reduce((a, b) => a + b, 0) };
  }
  return progress;
}

/** The public shape of a session (GET /api/v1/demo-sessions/{id} and `create --json`). */
export function sessionView(s: SessionRecord, progress: Progress = {}): SessionView {
  const services = {} as Record<ServiceName, ServiceView>;
  for (const name of SERVICES) {
    const done: ServiceJobResult | undefined = s.services[name];
    const live = progress[name];
    if (done) {
      services[name] = {
        status: 'ready',
        rows: done.rows,
        duration_ms: done.duration_ms,
        tables: done.tables as ServiceView['tables'],
      };
    } else if (live) {
      services[name] = {
        status: live.status,
        rows: live.rows ?? 0,
        duration_ms: live.duration_ms ?? null,
        ...(live.tables ? { tables: live.tables } : {}),
      };
    } else {
      services[name] = { status: s.status === 'failed' ? 'failed' : 'pending', rows: 0, duration_ms: null };
    }
    if (GONE.has(s.status) && services[name].status === 'ready') services[name].status = 'removed';
    if (s.status === 'failed' && s.error && services[name].status !== 'removed') {
      const own = s.error.split('; ').find((e) => e.startsWith(`${name}: `));
      services[name].status = own ? 'failed' : 'pending';
      if (own) services[name].error = own.slice(name.length + 2);
    }
  }
  const anyStarted = Object.values(services).some((v) => v.status !== 'pending');
  return {
    session_id: s.session_id,
    status: s.status === 'pending' && anyStarted ? 'loading' : s.status,
    demo_account_type: s.demo_account_type,
    subscription_tier: s.subscription_tier,
    tenant_id: s.tenant_id,
    tenant_ids: s.tenant_ids,
    created_at: s.created_at.toISOString(),
    expires_at: s.expires_at.toISOString(),
    ready_at: s.ready_at ? s.ready_at.toISOString() : null,
    duration_ms: s.duration_ms,
    error: s.error,
    trace_id: s.trace_id ?? null,
    phases: s.phases,
    services,
  };
}
