import type { Redis } from 'ioredis';
import { QueueUnavailableError } from '../sessions/errors.ts';

/*
 * BullMQ's FlowProducer waits for its connection to become ready before it sends
 * anything, so with Redis down from the start `producer.create` would hang, and
 * leave its session row pending, for as long as Redis stays away. (Once the
 * connection has been ready, commands fail fast: the producer connection has no
 * offline queue.) So the API checks the connection first, and bounds the call.
 */
/**
 * A safety net for a Redis that is connected but does not answer (ioredis has no
 * command timeout). Generous, because the bound covers all of `create`, whose first
 * call per profile also validates the profile.
 */
export const QUEUE_CALL_TIMEOUT_MS = 10_000;

export function assertQueueReady(redis: Redis): void {
  if (redis.status !== 'ready') throw new QueueUnavailableError(new Error(`Redis connection is ${redis.status}`));
}

/** Runs `fn` if Redis is connected; a call that does not settle within the bound answers 503. */
export async function withQueue<T>(
  redis: Redis,
  fn: () => Promise<T>,
  onLate: (err: unknown, value?: T) => void,
  timeoutMs = QUEUE_CALL_TIMEOUT_MS,
): Promise<T> {
  assertQueueReady(redis);
  const call = fn();
  const late = new QueueUnavailableError(new Error(`no answer within ${timeoutMs} ms`));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late), timeoutMs);
  });
  try {
    return await Promise.race([call, timeout]);
  } catch (err) {
    if (err === late) {
      // The call goes on; whatever it ends with is reported, not lost.
      call.then(
        (v) => onLate(undefined, v),
        (e: unknown) => onLate(e),
      );
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
