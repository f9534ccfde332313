import { FlowProducer, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { SERVICES } from '../catalog/services.ts';
import type { Config } from '../config/env.ts';
import { SESSION_QUEUE } from './jobs.ts';

/** Every queue of the service: one per service database, plus the session queue. */
export const QUEUE_NAMES: readonly string[] = [SESSION_QUEUE, ...SERVICES];

export function createFlowProducer(cfg: Config, connection: Redis): FlowProducer {
  return new FlowProducer({ connection, prefix: cfg.QUEUE_PREFIX });
}

export function createQueues(cfg: Config, connection: Redis): Map<string, Queue> {
  return new Map(QUEUE_NAMES.map((name) => [name, new Queue(name, { connection, prefix: cfg.QUEUE_PREFIX })]));
}
