import { QueueKeys } from 'bullmq';

/**
 * BullMQ's key layout, from BullMQ's own QueueKeys, for the few places that read or
 * write Redis next to BullMQ rather than through it: the reconciler's one-round-trip
 * look at many jobs, the events stream the ID-map transaction adds to, and the keys
 * BullMQ hands back for a parent's children. Nothing else spells a BullMQ key.
 */
const keysOf = new Map<string, QueueKeys>();
const keys = (prefix: string): QueueKeys => {
  let k = keysOf.get(prefix);
  if (!k) keysOf.set(prefix, (k = new QueueKeys(prefix)));
  return k;
};

/** The hash of one job. */
export function jobKey(prefix: string, queue: string, jobId: string): string {
  return keys(prefix).toKey(queue, jobId);
}

/** The sorted set of a queue's jobs that failed for good. */
export function failedKey(prefix: string, queue: string): string {
  return keys(prefix).toKey(queue, 'failed');
}

/** The stream of a queue's events (what QueueEvents reads). */
export function eventsKey(prefix: string, queue: string): string {
  return keys(prefix).toKey(queue, 'events');
}

/**
 * The queue of a child, from the job key BullMQ names it by in a parent's
 * children values and ignored failures (`<prefix>:<queue>:<jobId>`).
 */
export function queueOfJobKey(prefix: string, key: string): string | undefined {
  const head = `${prefix}:`;
  if (!key.startsWith(head)) return undefined;
  const rest = key.slice(head.length);
  const colon = rest.indexOf(':');
  return colon > 0 ? rest.slice(0, colon) : undefined;
}
