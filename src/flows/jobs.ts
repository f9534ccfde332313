import type { Phase, ServiceName } from '../catalog/services.ts';

/**
 * One typed map from job name to payload and result, shared by the flow builder,
 * the producer and the workers, so that enqueue and handler cannot disagree.
 */
export interface SessionRef {
  readonly sessionId: string;
  readonly profile: string;
  /** Absolute seed-data root the session was created from. */
  readonly dataDir: string;
  /** ISO instant of creation: fixes the day dates move to, even for a retry after midnight. */
  readonly createdAt: string;
  /** Seconds the session's Redis keys live. */
  readonly ttlSeconds: number;
}

export interface TableResult {
  readonly rows: number;
  readonly duration_ms: number;
}

export interface ServiceJobData extends SessionRef {
  readonly service: ServiceName;
  readonly phase: Phase;
  /** The service's depth in the dependency graph, from 1 (see WAVES). */
  readonly wave: number;
}

export interface ServiceJobResult {
  readonly service: ServiceName;
  readonly phase: Phase;
  readonly wave: number;
  readonly rows: number;
  readonly tables: Readonly<Record<string, TableResult>>;
  /** Time spent working (not waiting in the queue). */
  readonly duration_ms: number;
  readonly queued_at: number;
  readonly started_at: number;
  readonly finished_at: number;
  /**
   * When the service's ID maps went out (after its commit), which is when its
   * dependents may start; `finished_at` is once they are out.
   */
  readonly published_at: number;
  readonly attempts: number;
  /** True when an earlier run had already committed the rows (a retry after commit or a duplicate run). */
  readonly already_loaded: boolean;
}

export interface SessionJobData extends SessionRef {
  readonly tenantIds: readonly string[];
}

export interface PhaseSummary {
  readonly phase: Phase;
  readonly services: readonly ServiceName[];
  readonly rows: number;
  readonly started_at: number;
  readonly finished_at: number;
  readonly duration_ms: number;
}

/** What a service's load did, as its session's result tells the API (for its metrics). */
export interface ServiceLoadFigures {
  readonly rows: number;
  readonly duration_ms: number;
}

export interface SessionJobResult {
  readonly status: 'ready' | 'failed' | 'destroyed';
  readonly error?: string;
  /** The profile (demo_account_type) the session was loaded from. */
  readonly profile?: string;
  /** Created → ready, when ready. */
  readonly duration_ms?: number;
  /** The services that loaded, each counted once per session however often its job ran. */
  readonly services?: Readonly<Record<string, ServiceLoadFigures>>;
}

export type SessionEnd = 'destroyed' | 'expired';

/** Removes a session from every database, in reverse dependency order (see flows/cleanup-flow.ts). */
export interface CleanupJobData {
  readonly sessionId: string;
  readonly tenantIds: readonly string[];
  readonly end: SessionEnd;
}

export interface CleanupServiceJobData extends CleanupJobData {
  readonly service: ServiceName;
  readonly wave: number;
}

export interface CleanupServiceJobResult {
  readonly service: ServiceName;
  readonly wave: number;
  readonly deleted: number;
  readonly duration_ms: number;
}

export interface CleanupJobResult {
  readonly status: SessionEnd;
  readonly deleted: number;
  /** Rows deleted per service database. */
  readonly services?: Readonly<Record<string, number>>;
}

/** Delayed by the session's TTL: it starts the cleanup of a session that is still there. */
export interface ExpireJobData {
  readonly sessionId: string;
}

export interface JobTypes {
  'load-service': { data: ServiceJobData; result: ServiceJobResult };
  'cleanup-service': { data: CleanupServiceJobData; result: CleanupServiceJobResult };
  session: { data: SessionJobData; result: SessionJobResult };
  cleanup: { data: CleanupJobData; result: CleanupJobResult };
  expire: { data: ExpireJobData; result: { cleanup: boolean } };
}

export type JobName = keyof JobTypes;
export const SESSION_QUEUE = 'demo-session';
