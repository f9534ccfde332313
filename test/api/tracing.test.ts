import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES } from '../../src/catalog/services.ts';
import { SESSION_QUEUE } from '../../src/flows/jobs.ts';
import type { SessionView } from '../../src/sessions/session-view.ts';
import { createHarness, eventually, type Harness } from '../support/harness.ts';
import { freshEmail, PATH } from './helpers.ts';

/** A span as OTLP/HTTP JSON carries it (only the fields read here). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: { stringValue?: string; intValue?: string | number; boolValue?: boolean } }[];
}

/** A few lines of OTLP/HTTP receiver on 127.0.0.1: every span of every POST /v1/traces. */
async function otlpReceiver(): Promise<{ server: Server; url: string; spans: OtlpSpan[] }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        const msg = JSON.parse(body) as {
          resourceSpans?: { scopeSpans?: { spans?: OtlpSpan[] }[] }[];
        };
        for (const r of msg.resourceSpans ?? []) for (const s of r.scopeSpans ?? []) spans.push(...(s.spans ?? []));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans };
}

interface Child {
  readonly proc: ChildProcess;
  readonly logs: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
}

/** Runs `demo-seed <command>` and waits for the log line `ready`. */
async function run(env: NodeJS.ProcessEnv, command: string, ready: string): Promise<Child> {
  const proc = spawn(process.execPath, ['bin/demo-seed.js', command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === ready) resolve();
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => reject(new Error(`demo-seed ${command} exited ${code}: ${stderr}`)));
    setTimeout(() => reject(new Error(`demo-seed ${command}: no "${ready}" within 60 s: ${stderr}`)), 60_000).unref();
  });
  return { proc, logs, exited };
}

const attr = (s: OtlpSpan, key: string): string | number | boolean | undefined => {
  const v = s.attributes?.find((a) => a.key === key)?.value;
  if (!v) return undefined;
  return v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.boolValue);
};

/** OpenTelemetry: one professional session, through an API process and a worker process, is one trace. */
describe('tracing (OTLP/HTTP)', () => {
  let h: Harness;
  let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
  const children: Child[] = [];

  beforeAll(async () => {
    h = await createHarness();
    receiver = await otlpReceiver();
  });
  afterAll(async () => {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    await new Promise((r) => receiver?.server.close(r));
    await h?.close();
  });

  it('the POST, the flow, all 11 service jobs, their COPYs and the session job share one trace id; it is in the logs and in GET', async () => {
    const env: NodeJS.ProcessEnv = {
      ...h.env,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      RATE_LIMIT_PER_MINUTE: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_SERVICE_NAME: 'demo-seed-test',
    };
    const worker = await run({ ...env, WORKER_HEALTH_PORT: '0' }, 'worker', 'worker health endpoint listening');
    children.push(worker);
    const api = await run({ ...env, PORT: '0' }, 'api', 'HTTP API listening');
    children.push(api);
    const url = api.logs.find((l) => l.msg === 'HTTP API listening')!.url as string;
    // Ready once its Redis connection is up (a moment after it starts listening).
    await eventually(
      async () => ((await request(url).get('/readyz')).status === 200 ? true : undefined),
      10_000,
      '/readyz to answer 200',
    );

    const res = await request(url).post(PATH).send({ demo_account_type: 'professional', email: freshEmail() });
    expect(res.status, res.text).toBe(202);
    const id = (res.body as { session_id: string }).session_id;
    const view = await eventually(
      async () => {
        const v = (await request(url).get(`${PATH}/${id}`)).body as SessionView;
        return v.status === 'ready' || v.status === 'failed' ? v : undefined;
      },
      60_000,
      'the session to end loading',
    );
    expect(view.status, view.error ?? '').toBe('ready');
    const traceId = view.trace_id;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    // Both processes flush their spans on SIGTERM.
    for (const c of [api, worker]) c.proc.kill('SIGTERM');
    expect(await api.exited).toBe(0);
    expect(await worker.exited).toBe(0);

    const trace = receiver.spans.filter((s) => s.traceId === traceId);
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const names = trace.map((s) => s.name);
    // Every span of the trace but its root has its parent in the trace: nothing lost, no second root.
    const roots = trace.filter((s) => !s.parentSpanId || !byId.has(s.parentSpanId));
    expect(roots.map((s) => s.name)).toEqual([`POST ${PATH}`]);
    const root = roots[0]!;
    const under = (s: OtlpSpan, ancestor: OtlpSpan): boolean => {
      for (let p = s.parentSpanId; p; p = byId.get(p)?.parentSpanId) if (p === ancestor.spanId) return true;
      return false;
    };
    // The POST adds the session's flow (its parent, the session job, on the session queue).
    const inJob = (s: OtlpSpan) => trace.some((p) => p.name.startsWith('process ') && under(s, p));
    const added = trace.filter((s) => s.name.startsWith('add') && !inJob(s));
    expect(
      added.map((s) => s.name),
      names.join(', '),
    ).toContain(`addNode ${SESSION_QUEUE}`);
    for (const s of added) expect(under(s, root)).toBe(true);

    for (const service of SERVICES) {
      const job = trace.find((s) => s.name === `process ${service}`);
      expect(job, `no span for ${service}'s job in: ${names.join(', ')}`).toBeDefined();
      expect(under(job!, root)).toBe(true);
      expect(attr(job!, 'demo.service')).toBe(service);
      expect(attr(job!, 'demo.session_id')).toBe(id);
      expect(attr(job!, 'demo.attempt')).toBe(1);
      expect(attr(job!, 'demo.rows')).toBeGreaterThan(0);
      expect(attr(job!, 'demo.duration_ms')).toBeGreaterThanOrEqual(0);
      const copies = trace.filter((s) => under(s, job!) && /\bCOPY\b/.test(String(attr(s, 'db.query.text') ?? '')));
      expect(copies.length, `no COPY span under ${service}'s job`).toBeGreaterThan(0);
    }
    const sessionJob = trace.find((s) => s.name === `process ${SESSION_QUEUE}`);
    expect(sessionJob, names.join(', ')).toBeDefined();
    expect(under(sessionJob!, root)).toBe(true);

    // The session's log lines carry the trace id: the worker's, per service, and the API's.
    const serviceLines = worker.logs.filter((l) => l.session_id === id && /^service .* loaded$/.test(String(l.msg)));
    expect(serviceLines).toHaveLength(SERVICES.length);
    for (const l of serviceLines) expect(l.trace_id).toBe(traceId);
    expect(api.logs.find((l) => l.msg === 'session created' && l.session_id === id)?.trace_id).toBe(traceId);
    // Outside a span, no trace id.
    expect(api.logs.find((l) => l.msg === 'HTTP API listening')).not.toHaveProperty('trace_id');
  }, 120_000);

  it.each([
    ['tracing off (no endpoint)', {}],
    ['a trace the sampler drops', { OTEL_EXPORTER_OTLP_ENDPOINT: 'receiver', OTEL_TRACES_SAMPLER: 'always_off' }],
  ])(
    '%s: no trace_id in GET or on log lines',
    async (_name, otel: Record<string, string>) => {
      const before = receiver.spans.length;
      const api = await run(
        {
          ...h.env,
          HOST: '127.0.0.1',
          PORT: '0',
          LOG_LEVEL: 'info',
          RATE_LIMIT_PER_MINUTE: '0',
          OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
          OTEL_BSP_SCHEDULE_DELAY: '100',
          // Whatever the test runner's environment says.
          OTEL_EXPORTER_OTLP_ENDPOINT: '',
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
          ...Object.fromEntries(Object.entries(otel).map(([k, v]) => [k, v === 'receiver' ? receiver.url : v])),
        },
        'api',
        'HTTP API listening',
      );
      children.push(api);
      const url = api.logs.find((l) => l.msg === 'HTTP API listening')!.url as string;
      await eventually(
        async () => ((await request(url).get('/readyz')).status === 200 ? true : undefined),
        10_000,
        '/readyz to answer 200',
      );
      const res = await request(url).post(PATH).send({ demo_account_type: 'professional', email: freshEmail() });
      expect(res.status, res.text).toBe(202);
      const id = (res.body as { session_id: string }).session_id;
      const view = (await request(url).get(`${PATH}/${id}`)).body as SessionView;
      expect(view.trace_id).toBeNull();
      api.proc.kill('SIGTERM');
      expect(await api.exited).toBe(0);
      expect(api.logs.find((l) => l.msg === 'session created' && l.session_id === id)).not.toHaveProperty('trace_id');
      expect(receiver.spans.length).toBe(before);
    },
    60_000,
  );
});
