import { SESSION_QUEUE } from './jobs.ts';
import type { StreamEntry } from '../redis/id-maps.ts';
import { eventsKey } from './queue-keys.ts';

/**
 * Events the workers add to the session queue's event stream, beside BullMQ's own,
 * so that an API process learns all it shows and counts from that one stream (one
 * QueueEvents reader, not one blocking reader per queue woken by every job's every
 * step). BullMQ's QueueEvents emits them by name like its own.
 *
 * - `service-loaded` {jobId, service}: a service published its ID maps (its progress
 *   entry says ready). Added in the same Redis transaction, so it costs no round trip.
 * - `attempt-failed` {queue, jobId, final, stalled}: a job of a service queue failed
 *   an attempt (`final` "1" when it will not be retried), or was found stalled and
 *   put back to run again.
 */
export const SERVICE_LOADED = 'service-loaded';
export const ATTEMPT_FAILED = 'attempt-failed';

/** The fields of a `service-loaded` event (stream fields are strings). */
export interface ServiceLoadedFields {
  readonly jobId: string;
  readonly service: string;
}

/** The fields of an `attempt-failed` event: `final` and `stalled` are "1" or "0". */
export interface AttemptFailedFields {
  readonly queue: string;
  readonly jobId: string;
  readonly final: '1' | '0';
  readonly stalled: '1' | '0';
}

/** BullMQ's own default length of a queue's event stream (streams.events.maxLen). */
export const EVENTS_MAX_LEN = 10_000;

export function sessionEventsKey(prefix: string): string {
  return eventsKey(prefix, SESSION_QUEUE);
}

export function serviceLoadedEntry(prefix: string, fields: ServiceLoadedFields): StreamEntry {
  return { stream: sessionEventsKey(prefix), maxLen: EVENTS_MAX_LEN, fields: { event: SERVICE_LOADED, ...fields } };
}
