import { randomUUID } from 'node:crypto';
import { QueueEvents, Worker, type Job } from 'bullmq';
import { dependenciesDone, dependentsOf, SERVICES } from '../src/catalog/services.ts';
import { buildSessionFlow, serviceJobs } from '../src/flows/build-flow.ts';
import { expireJob } from '../src/flows/cleanup-flow.ts';
import { SESSION_QUEUE, type ServiceJobData, type SessionJobData } from '../src/flows/jobs.ts';
import { createFlowProducer } from '../src/flows/queues.ts';
import { createRedis } from '../src/redis/connection.ts';
import { deleteKeysMatching } from '../src/redis/keys.ts';
import { closedLoop, fastest } from './closed-loop.ts';
import { processCpuMs, redisCpuMs } from './cpu.ts';
import type { World } from './world.ts';

/**
 * What BullMQ itself costs a session: the session's real flow (the session job with
 * its wave-1 services, each later service added as a child of the session job by the
 * job that completes its dependencies, and the delayed expiry job), with the real job
 * options, one worker per queue at WORKER_CONCURRENCY, but jobs that do nothing
 * except mark their service done (one MULTI, as the real ones do beside their ID
 * maps) and add their ready dependents. Producer, workers and a QueueEvents on the
 * session queue (how the API learns a session is done) all run in this process, on
 * a queue prefix of their own that is deleted afterwards. No PostgreSQL, no ID maps,
 * no API: together with the PostgreSQL floor, the least a session can cost in the
 * design's queue.
 */
export interface QueueFloorLevel {
  readonly sessions: number;
  readonly concurrency: number;
  readonly elapsed_ms: number;
  readonly per_second: number;
  /** CPU ms per session of this process: the producer, the 12 workers and the QueueEvents. */
  readonly process_cpu_ms: number;
  /** CPU ms per session of the Redis server (BullMQ's scripts and commands). */
  readonly redis_cpu_ms: number;
}

/** The level with the most sessions per second, its figures at the top; every level in `levels`. */
export interface QueueFloor extends QueueFloorLevel {
  /** BullMQ jobs per session (the session job, one per service, the expiry job). */
  readonly jobs_per_session: number;
  readonly levels: QueueFloorLevel[];
}

export async function measureQueueFloor(
  world: World,
  opts: { sessions: number; concurrencies: readonly number[]; warmup?: number },
): Promise<QueueFloor> {
  const cfg = { ...world.cfg, QUEUE_PREFIX: `${world.cfg.QUEUE_PREFIX.replace(/}$/, '')}-queue-floor}` };
  const prefix = cfg.QUEUE_PREFIX;
  const connections: ReturnType<typeof createRedis>[] = [];
  const connection = () => {
    const c = createRedis(cfg.REDIS_URL, 'worker');
    connections.push(c);
    return c;
  };
  const shared = connection();
  const marks = connection();
  const flows = createFlowProducer(cfg, shared);
  const common = { prefix, concurrency: cfg.WORKER_CONCURRENCY, lockDuration: cfg.LOCK_DURATION_MS };
  const workers: Worker[] = SERVICES.map(
    (service) =>
      new Worker(
        service,
        async (job: Job<ServiceJobData>) => {
          const key = `${prefix}:queue-floor:${job.data.sessionId}`;
          const replies = await marks.multi().sadd(key, service).expire(key, 600).smembers(key).exec();
          const loaded = new Set((replies?.[2]?.[1] ?? []) as string[]);
          const ready = dependentsOf(service).filter((s) => dependenciesDone(s, loaded));
          if (ready.length > 0 && job.parent?.id !== undefined)
            await flows.addBulk(serviceJobs(cfg, job.data, ready, { id: job.parent.id, queue: job.parent.queueKey }));
          return { service, rows: 0 };
        },
        { ...common, connection: connection() },
      ),
  );
  workers.push(new Worker(SESSION_QUEUE, async () => ({ status: 'ready' }), { ...common, connection: connection() }));
  const events = new QueueEvents(SESSION_QUEUE, { connection: connection(), prefix });
  const done = new Map<string, () => void>();
  events.on('completed', ({ jobId }) => done.get(jobId)?.());
  try {
    await Promise.all([events.waitUntilReady(), ...workers.map((w) => w.waitUntilReady())]);
    const one = async () => {
      const data: SessionJobData = {
        sessionId: randomUUID(),
        profile: 'professional',
        dataDir: cfg.SEED_DATA_DIR,
        createdAt: new Date().toISOString(),
        ttlSeconds: 3600,
        tenantIds: [randomUUID()],
      };
      const finished = new Promise<void>((resolve) => done.set(data.sessionId, resolve));
      await flows.addBulk([buildSessionFlow(cfg, data), expireJob(cfg, data.sessionId, 3_600_000)]);
      await finished;
      done.delete(data.sessionId);
    };
    const level = async (sessions: number, concurrency: number): Promise<QueueFloorLevel> => {
      const { cpu_ms, ...run } = await closedLoop(sessions, concurrency, one, {
        process: () => processCpuMs(process.pid),
        redis: () => redisCpuMs(world.rt.redis),
      });
      return { ...run, process_cpu_ms: cpu_ms.process, redis_cpu_ms: cpu_ms.redis };
    };
    // Warm-up: connections, BullMQ's scripts, the JIT.
    await level(opts.warmup ?? 32, 16);
    const levels: QueueFloorLevel[] = [];
    for (const c of opts.concurrencies) levels.push(await level(opts.sessions, c));
    const best = fastest(levels);
    return { jobs_per_session: SERVICES.length + 2, levels, ...best };
  } finally {
    await events.close().catch(() => undefined);
    await Promise.all(workers.map((w) => w.close().catch(() => undefined)));
    await flows.close().catch(() => undefined);
    await deleteKeysMatching(world.rt.redis, `${prefix}:*`).catch(() => undefined);
    for (const c of connections) c.disconnect();
  }
}
