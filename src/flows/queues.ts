import { FlowProducer, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { SERVICES } from '../catalog/services.ts';
import type { Config } from '../config/env.ts';
import { bullmqTelemetry } from '../shared/telemetry.ts';
import { SESSION_QUEUE } from './jobs.ts';

/** Every queue of the service: one per service database, plus the session queue. */
export const QUEUE_NAMES: readonly string[] = [SESSION_QUEUE, ...SERVICES];

/*
 * BullMQ passes a connection's errors on to every Queue and FlowProducer using it, and
 * prints them when nothing listens. The connections' own listeners report them (the
 * outage log, redis/outage-log.ts), so these objects' copies are dropped here.
 */
export function createFlowProducer(cfg: Config, connection: Redis): FlowProducer {
  const flows = new FlowProducer({ connection, prefix: cfg.QUEUE_PREFIX, ...bullmqTelemetry() });
  flows.on('error', () => undefined);
  return flows;
}

/** A queue for adding, reading or removing jobs (not a worker's). */
export function createQueue(cfg: Config, connection: Redis, name: string): Queue {
  const queue = new Queue(name, { connection, prefix: cfg.QUEUE_PREFIX, ...bullmqTelemetry() });
  queue.on('error', () => undefined);
  return queue;
}

export function createQueues(cfg: Config, connection: Redis): Map<string, Queue> {
  return new Map(QUEUE_NAMES.map((name) => [name, createQueue(cfg, connection, name)]));
}
