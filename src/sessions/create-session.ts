import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { FlowProducer, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { isSubscriptionTier, type SubscriptionTier } from '../catalog/tables.ts';
import type { Config } from '../config/env.ts';
import type { Databases } from '../db/pools.ts';
import { buildSessionFlow } from '../flows/build-flow.ts';
import { expireJob } from '../flows/cleanup-flow.ts';
import { SESSION_QUEUE, type SessionJobData } from '../flows/jobs.ts';
import { createQueue } from '../flows/queues.ts';
import type { ProfileCache } from '../seed/profile-cache.ts';
import { sessionTenantIds } from '../load/session-context.ts';
import { emailMailbox } from '../shared/mailbox.ts';
import { activeTraceId } from '../shared/telemetry.ts';
import { EmailCapReachedError, IdempotencyKeyTakenError, QueueUnavailableError } from './errors.ts';
import { requestCleanup } from './request-cleanup.ts';
import {
  findByIdempotencyKey,
  getSession,
  insertSession,
  insertSessionWithinCap,
  markEnqueueFailed,
  type NewSession,
  type SessionRecord,
} from '../db/sql/sessions.ts';
import { readProgress } from './live-progress.ts';
import type { AccessUser } from './access.ts';
import { extendSession } from './extend-session.ts';
import { mainUserOf } from './main-user.ts';
import { sessionView, type SessionSnapshot, type SessionView } from './session-view.ts';

export interface CreateSessionInput {
  readonly profile: string;
  readonly email?: string | null;
  readonly subscriptionTier?: string | null;
  /** Seed-data root; defaults to SEED_DATA_DIR. */
  readonly dataDir?: string;
  /** The client's Idempotency-Key and a hash of its request (HTTP POST). */
  readonly idempotency?: { readonly key: string; readonly fingerprint: string };
  /** Live sessions one mailbox may hold (0: no cap); defaults to MAX_SESSIONS_PER_EMAIL. */
  readonly maxPerEmail?: number;
}

/** The errors create() throws for a request that cannot be served now (the API answers 429 and 503). */
export { EmailCapReachedError, QueueUnavailableError };

/** A session's record as far as its flow needs it. */
export type FlowRecord = Pick<
  SessionRecord,
  'session_id' | 'demo_account_type' | 'data_dir' | 'created_at' | 'expires_at' | 'tenant_ids'
> &
  Partial<Pick<SessionRecord, 'subscription_tier'>>;

/** What the session's jobs carry, from its record. */
export function sessionJobData(s: FlowRecord): SessionJobData {
  return {
    sessionId: s.session_id,
    profile: s.demo_account_type,
    dataDir: s.data_dir ?? '',
    createdAt: s.created_at.toISOString(),
    // Keys outlive the session a little, so cleanup always finds them.
    ttlSeconds: Math.ceil((s.expires_at.getTime() - s.created_at.getTime()) / 1000) + 3600,
    tenantIds: s.tenant_ids,
    // The main tenant's row gets it (a tier recorded before tiers were checked is left out: the profile's).
    ...(isSubscriptionTier(s.subscription_tier) && { subscriptionTier: s.subscription_tier }),
  };
}

/** The tier of a request that names none: the account type's (professional, enterprise), else the profile's (null). */
export function defaultSubscriptionTier(profile: string): SubscriptionTier | null {
  return isSubscriptionTier(profile) ? profile : null;
}

/**
 * Enqueues a session's flow and its expiry in one MULTI: both or neither. Safe to
 * repeat (fixed job ids), which is how the reconciler rebuilds a lost flow.
 */
export async function enqueueSession(cfg: Config, flows: FlowProducer, s: FlowRecord): Promise<void> {
  await flows.addBulk([
    buildSessionFlow(cfg, sessionJobData(s)),
    expireJob(cfg, s.session_id, s.expires_at.getTime() - Date.now()),
  ]);
}

/** Records a session and enqueues its flow: what the HTTP API and `demo-seed create` call. */
export class SessionProducer {
  constructor(
    private readonly cfg: Config,
    private readonly dbs: Databases,
    private readonly redis: Redis,
    private readonly flows: FlowProducer,
    private readonly profiles: ProfileCache,
  ) {}

  /**
   * Reads and validates a profile and opens a connection ahead of the first
   * request, so the first prospect does not wait for them. Best effort.
   */
  async warmUp(profiles: readonly string[]): Promise<void> {
    const dataDir = path.resolve(this.cfg.SEED_DATA_DIR);
    await Promise.allSettled([
      this.dbs.pool('demo_session').query('SELECT 1'),
      ...profiles.map((p) => this.profiles.checked(dataDir, p)),
    ]);
  }

  /**
   * Records a pending session and enqueues its flow. With an email, the mailbox's live
   * sessions are capped (maxPerEmail): counted in PostgreSQL in the transaction of the
   * insert, so no number of API replicas lets more through; over the cap, nothing is
   * written and EmailCapReachedError is thrown.
   */
  async create(input: CreateSessionInput): Promise<SessionRecord> {
    const dataDir = path.resolve(input.dataDir ?? this.cfg.SEED_DATA_DIR);
    // A profile that fails validation (errors; warnings do not count) is refused
    // before any row is written, with the validator's findings.
    const profile = await this.profiles.checked(dataDir, input.profile);
    const sessionId = randomUUID();
    const createdAt = new Date();
    const ttl = this.cfg.DEMO_SESSION_TTL_SECONDS;
    const tenantIds = sessionTenantIds(profile, sessionId);
    const db = this.dbs.pool('demo_session');
    const row: NewSession = {
      idempotency_key: input.idempotency?.key ?? null,
      request_fingerprint: input.idempotency?.fingerprint ?? null,
      session_id: sessionId,
      demo_account_type: input.profile,
      email: input.email ?? null,
      subscription_tier: input.subscriptionTier ?? defaultSubscriptionTier(input.profile),
      tenant_id: tenantIds[0] as string,
      tenant_ids: tenantIds,
      created_at: createdAt,
      // Whole seconds, so that the demo token's `exp` (seconds) is exactly expires_at.
      expires_at: new Date(Math.floor(createdAt.getTime() / 1000 + ttl) * 1000),
      data_dir: dataDir,
      queue_prefix: this.cfg.QUEUE_PREFIX,
      trace_id: activeTraceId() ?? null,
    };
    const max = input.maxPerEmail ?? this.cfg.MAX_SESSIONS_PER_EMAIL;
    let record: SessionRecord | undefined;
    if (max > 0 && row.email !== null) {
      const out = await insertSessionWithinCap(db, { ...row, email: row.email }, max);
      if ('capReached' in out) throw new EmailCapReachedError(emailMailbox(row.email), out.capReached, max);
      record = 'inserted' in out ? out.inserted : undefined;
    } else {
      record = await insertSession(db, row);
    }
    if (!record) throw new IdempotencyKeyTakenError(input.idempotency?.key ?? '');
    try {
      await enqueueSession(this.cfg, this.flows, record);
    } catch (err) {
      await markEnqueueFailed(db, sessionId, `could not enqueue: ${(err as Error).message}`).catch(() => undefined);
      throw new QueueUnavailableError(err);
    }
    return record;
  }

  /**
   * create() under a client's idempotency key: when the key made a session already
   * (or makes one meanwhile, in another request or API replica), that session is
   * returned instead of a new one.
   */
  async createOnce(
    input: CreateSessionInput & { idempotency: { key: string; fingerprint: string } },
  ): Promise<{ record: SessionRecord; replayed: boolean }> {
    // The insert itself tells: its ON CONFLICT on the key inserts nothing when the key is taken.
    try {
      return { record: await this.create(input), replayed: false };
    } catch (err) {
      if (!(err instanceof IdempotencyKeyTakenError)) throw err;
      const winner = await findByIdempotencyKey(this.dbs.pool('demo_session'), input.idempotency.key);
      if (!winner) throw err;
      return { record: winner, replayed: true };
    }
  }

  /** The session's main user, as its demo token names it (the profile's owner; main-user.ts); undefined without one. */
  async mainUser(
    s: Pick<SessionRecord, 'session_id' | 'demo_account_type' | 'data_dir'>,
  ): Promise<AccessUser | undefined> {
    const dataDir = s.data_dir ?? path.resolve(this.cfg.SEED_DATA_DIR);
    const profile = await this.profiles.get(dataDir, s.demo_account_type);
    return mainUserOf(profile, s.session_id, this.cfg.DEMO_EMAIL_DOMAIN);
  }

  private sessionQueue: Queue | undefined;

  /**
   * Extends a ready session by `seconds` (PATCH; extend-session.ts): the record, its
   * expire job and its Redis keys' TTL. Undefined for an unknown session.
   */
  async extend(sessionId: string, seconds: number): Promise<SessionRecord | undefined> {
    // On the producer's connection, which the runtime closes.
    this.sessionQueue ??= createQueue(this.cfg, this.redis, SESSION_QUEUE);
    const d = { cfg: this.cfg, db: this.dbs.pool('demo_session'), redis: this.redis, flows: this.flows };
    return extendSession({ ...d, queue: this.sessionQueue }, sessionId, seconds);
  }

  /** The session an idempotency key made, if any. */
  findByIdempotencyKey(key: string): Promise<SessionRecord | undefined> {
    return findByIdempotencyKey(this.dbs.pool('demo_session'), key);
  }

  /**
   * Starts the removal of a session (DELETE, or `destroy`): it moves to `destroying`
   * and its cleanup flow runs on the workers. Undefined for an unknown session.
   */
  async destroy(sessionId: string): Promise<SessionView | undefined> {
    const db = this.dbs.pool('demo_session');
    if (!(await requestCleanup(this.cfg, db, this.flows, sessionId, 'destroyed'))) return undefined;
    return this.view(sessionId);
  }

  async view(sessionId: string): Promise<SessionView | undefined> {
    return (await this.snapshot(sessionId))?.view;
  }

  /** The session's view, and while it loads, a way to read its progress again (SessionSnapshot). */
  async snapshot(sessionId: string): Promise<SessionSnapshot | undefined> {
    const s = await getSession(this.dbs.pool('demo_session'), sessionId);
    return s && this.snapshotOf(s);
  }

  private async snapshotOf(s: SessionRecord): Promise<SessionSnapshot> {
    if (s.status !== 'pending' && s.status !== 'loading') return { view: sessionView(s) };
    // From Redis; while it does not answer, from the service databases' load markers.
    const progress = await readProgress(this.redis, this.dbs, this.cfg.QUEUE_PREFIX, s.session_id);
    return { view: sessionView(s, progress), refresh: () => this.snapshotOf(s) };
  }
}
