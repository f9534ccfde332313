/**
 * OpenTelemetry tracing, set up before the service's own modules load (bin/demo-seed.js
 * imports this first). Off unless OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (and OTEL_SDK_DISABLED is not `true`); then
 * the SDK reads the standard OTEL_* variables itself (service name, sampler, protocol,
 * batch delays). When off, nothing of OpenTelemetry is imported.
 *
 * What is traced: incoming HTTP requests (not /metrics and the probes), PostgreSQL
 * queries made inside a trace, and BullMQ (bullmq-otel: adding a flow or job, each
 * job's processing, parented on the span that added it). A session is one trace: the
 * POST's span adds the flow; each job's span is parented on the span that added it,
 * and jobs added by a job (dependents, the session's next steps) are added inside that
 * job's span.
 */
import { createRequire } from 'node:module';
import { setTracing, type Tracing } from '../shared/telemetry.ts';

/** Whether the environment asks for traces. */
export function tracingWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/** Paths whose requests make no span: scrapes and probes, every few seconds. */
const UNTRACED = new Set(['/metrics', '/healthz', '/readyz']);
/** BullMQ operations that are its upkeep, not a session's work. */
const UPKEEP = new Set(['moveStalledJobsToWait', 'startStalledCheckTimer', 'close', 'pause', 'resume']);

export async function startTracing(): Promise<Tracing | undefined> {
  if (!tracingWanted()) return undefined;
  const [api, { NodeSDK }, { HttpInstrumentation }, { PgInstrumentation }, { BullMQOtel, BullMQOTelSpan }] =
    await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-node'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-pg'),
      import('bullmq-otel'),
    ]);
  process.env.OTEL_SERVICE_NAME ||= 'demo-seed';
  const sdk = new NodeSDK({
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED.has((req.url ?? '').split('?')[0] ?? ''),
        // Express routes name the server span (`POST /sessions`), as an express instrumentation would.
        applyCustomAttributesOnSpan: (span, req) => {
          const route = (req as { route?: { path?: unknown } }).route?.path;
          if (typeof route === 'string') {
            span.setAttribute('http.route', route);
            span.updateName(`${(req as { method?: string }).method ?? 'GET'} ${route}`);
          }
        },
      }),
      // Only queries made inside a trace: not the reconciler's or the probes' polling.
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  // The service imports pg and http as ES modules: loading them here, through require,
  // lets the instrumentations patch them before anything else gets them (ESM imports of
  // a CommonJS module share its require cache).
  const require = createRequire(import.meta.url);
  require('node:http');
  require('node:https');
  patchSubmittables(require('pg') as PgModule);

  // BullMQ's own upkeep (stalled-job checks every STALLED_INTERVAL_MS per queue, closing)
  // would be a trace each: those get a span that records nothing.
  const bullmq = new BullMQOtel({ tracerName: 'demo-seed' });
  const startSpan = bullmq.tracer.startSpan.bind(bullmq.tracer);
  const nothing = new BullMQOTelSpan(api.trace.wrapSpanContext(api.INVALID_SPAN_CONTEXT));
  bullmq.tracer.startSpan = (name, options, ctx) =>
    UPKEEP.has(name.split(' ')[0] ?? '') ? nothing : startSpan(name, options, ctx);

  const t: Tracing = {
    bullmq,
    traceId: () => {
      const span = api.trace.getActiveSpan();
      const ctx = span?.spanContext();
      // A trace the sampler dropped is nowhere to be found: its id is not told.
      const sampled = ctx && api.isSpanContextValid(ctx) && (ctx.traceFlags & api.TraceFlags.SAMPLED) !== 0;
      return sampled ? ctx.traceId : undefined;
    },
    setAttributes: (attributes) => {
      api.trace.getActiveSpan()?.setAttributes(attributes);
    },
    // At most 5 s: an unreachable collector must not hold a shutdown up.
    flush: () =>
      Promise.race([
        sdk.shutdown().catch(() => undefined),
        new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref()),
      ]),
  };
  setTracing(t);
  return t;
}

interface Submittable {
  submit: (...args: unknown[]) => unknown;
  text?: unknown;
  callback?: (...args: unknown[]) => unknown;
  handleError?: (...args: unknown[]) => unknown;
  handleReadyForQuery?: (...args: unknown[]) => unknown;
}
interface PgModule {
  Client: { prototype: { query: (...args: unknown[]) => unknown } };
}

/**
 * The pg instrumentation ends a query's span when its callback is called. A Submittable
 * (the COPYs of db/copy.ts and pg-copy-streams) keeps its `callback` on its prototype,
 * which the instrumentation does not see, and may never call it: its span would never
 * end, and never be sent. So, around the instrumented `query`: a Submittable gets a
 * callback of its own before, and calls it once when it is done (ready for the next
 * query, or failed) after.
 */
function patchSubmittables(pg: PgModule): void {
  const proto = pg.Client.prototype;
  const instrumented = proto.query;
  proto.query = function query(this: unknown, ...args: unknown[]) {
    const q = args[0] as Submittable | null | undefined;
    if (!q || typeof q.submit !== 'function' || typeof q.text !== 'string' || Object.hasOwn(q, 'callback'))
      return instrumented.apply(this, args);
    const own = q.callback;
    q.callback = function (this: unknown, ...a: unknown[]) {
      return own?.apply(this, a);
    };
    const result = instrumented.apply(this, args);
    const wrapped = q.callback;
    let done = false;
    q.callback = function (this: unknown, ...a: unknown[]) {
      if (done) return undefined;
      done = true;
      return wrapped.apply(this, a);
    };
    const { handleError, handleReadyForQuery } = q;
    q.handleError = function (this: Submittable, ...a: unknown[]) {
      this.callback?.(a[0]);
      return handleError?.apply(this, a);
    };
    q.handleReadyForQuery = function (this: Submittable, ...a: unknown[]) {
      const r = handleReadyForQuery?.apply(this, a);
      this.callback?.(null);
      return r;
    };
    return result;
  };
}
