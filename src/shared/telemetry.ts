import type { Telemetry } from 'bullmq';

/**
 * What the rest of the service asks of tracing. Tracing is set up (or not) before the
 * service's modules load, by src/telemetry/register.ts; when it is off nothing of
 * OpenTelemetry is loaded and every hook here is a no-op.
 */
export interface Tracing {
  /** BullMQ's `telemetry` option (bullmq-otel) for a Queue, Worker or FlowProducer. */
  readonly bullmq: Telemetry;
  /** The trace id of the active span, if any. */
  traceId(): string | undefined;
  /** Sets attributes on the active span, if any. */
  setAttributes(attributes: Readonly<Record<string, string | number | boolean>>): void;
  /** Sends the spans still buffered; at shutdown. */
  flush(): Promise<void>;
}

let current: Tracing | undefined;

export function setTracing(t: Tracing | undefined): void {
  current = t;
}

/** The tracing hooks, or undefined when tracing is off. */
export function tracing(): Tracing | undefined {
  return current;
}

/** `{ telemetry }` for a BullMQ constructor's options; nothing when tracing is off. */
export function bullmqTelemetry(): { telemetry?: Telemetry } {
  return current ? { telemetry: current.bullmq } : {};
}

/** The active span's trace id; undefined when tracing is off or no span is active. */
export function activeTraceId(): string | undefined {
  return current?.traceId();
}
