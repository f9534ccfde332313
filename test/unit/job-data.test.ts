import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { WAVES, type ServiceName } from '../../src/catalog/services.ts';
import { loadConfig } from '../../src/config/env.ts';
import { buildSessionFlow, serviceJobs } from '../../src/flows/build-flow.ts';
import { buildCleanupFlow, cleanupServiceJobs, expireJob } from '../../src/flows/cleanup-flow.ts';
import {
  jobDataProblems,
  parseJobData,
  SESSION_QUEUE,
  type JobName,
  type SessionJobData,
} from '../../src/flows/jobs.ts';
import { sessionJobData } from '../../src/sessions/create-session.ts';

const cfg = loadConfig({});
const sessionId = '0b6f2c1e-8a7d-4c3b-9e1f-2d3c4b5a6978';
const tenant = '1b6f2c1e-8a7d-4c3b-9e1f-2d3c4b5a6978';
const session: SessionJobData = sessionJobData({
  session_id: sessionId,
  demo_account_type: 'professional',
  data_dir: '/seed-data',
  created_at: new Date('2026-11-24T10:00:00.000Z'),
  expires_at: new Date('2026-11-24T10:30:00.000Z'),
  tenant_ids: [tenant],
});

/** Every job the code enqueues, flattened out of its flows, with its queue. */
function enqueued(): { name: JobName; queue: string; data: unknown }[] {
  type Flow = { name: string; queueName: string; data?: unknown; children?: Flow[] };
  const flat = (f: Flow): { name: JobName; queue: string; data: unknown }[] => [
    { name: f.name as JobName, queue: f.queueName, data: f.data },
    ...(f.children ?? []).flatMap(flat),
  ];
  const parent = { id: sessionId, queue: `${cfg.QUEUE_PREFIX}:${SESSION_QUEUE}` };
  return [
    buildSessionFlow(cfg, session),
    ...serviceJobs(cfg, session, WAVES.flat(), parent),
    buildCleanupFlow(cfg, { sessionId, end: 'destroyed' }),
    ...WAVES.flatMap((_, i) =>
      cleanupServiceJobs(cfg, { sessionId, end: 'expired' }, [...WAVES].reverse()[i] as ServiceName[], i + 1),
    ),
    expireJob(cfg, sessionId, 1000),
  ].flatMap((f) => flat(f as Flow));
}

describe('job data schemas', () => {
  it('pass every job the flows enqueue, on the queue they enqueue it to', () => {
    const jobs = enqueued();
    expect(new Set(jobs.map((j) => j.name))).toEqual(
      new Set(['session', 'load-service', 'cleanup', 'cleanup-service', 'expire']),
    );
    for (const j of jobs) expect(jobDataProblems(j.name, j.queue, j.data), `${j.name} on ${j.queue}`).toEqual([]);
  });

  it('name no tenant in the cleanup jobs the flows enqueue', () => {
    for (const j of enqueued().filter((x) => x.name.startsWith('cleanup')))
      expect(Object.keys(j.data as object)).not.toContain('tenantIds');
  });

  const load = serviceJobs(cfg, session, ['inventory'])[0]?.data as Record<string, unknown>;
  const cases: [JobName, string, unknown, string][] = [
    ['cleanup', SESSION_QUEUE, { sessionId: 42, end: 'destroyed' }, 'sessionId: must be a uuid'],
    ['cleanup', SESSION_QUEUE, { sessionId: 'x; DROP TABLE t', end: 'destroyed' }, 'sessionId: must be a uuid'],
    ['cleanup', SESSION_QUEUE, { end: 'destroyed' }, 'sessionId: is required'],
    ['cleanup', SESSION_QUEUE, { sessionId, end: 'gone' }, 'end: must be destroyed or expired'],
    [
      'cleanup',
      SESSION_QUEUE,
      { sessionId, end: 'destroyed', tenantIds: 'all' },
      'tenantIds: must be an array of uuids',
    ],
    ['cleanup', SESSION_QUEUE, { sessionId, end: 'destroyed', tenantIds: ['nope'] }, 'tenantIds.0: must be a uuid'],
    ['cleanup', SESSION_QUEUE, { sessionId, end: 'destroyed', where: '1=1' }, 'where: is not a field of this job'],
    ['cleanup', SESSION_QUEUE, 'cleanup everything', 'data: must be an object'],
    ['cleanup', SESSION_QUEUE, null, 'data: must be an object'],
    ['cleanup', 'inventory', { sessionId, end: 'destroyed' }, `queue: this job runs on ${SESSION_QUEUE} only`],
    [
      'cleanup-service',
      'inventory',
      { sessionId, end: 'destroyed', service: 'inventory', wave: 0 },
      'wave: must be at least 1',
    ],
    [
      'cleanup-service',
      'inventory',
      { sessionId, end: 'destroyed', service: 'inventory', wave: 1.5 },
      'wave: must be an integer',
    ],
    [
      'cleanup-service',
      'inventory',
      { sessionId, end: 'destroyed', service: 'payroll', wave: 1 },
      'service: must be one of:',
    ],
    [
      'cleanup-service',
      'inventory',
      { sessionId, end: 'destroyed', service: 'sales', wave: 1 },
      "service: must be the queue's service (inventory)",
    ],
    ['cleanup-service', 'inventory', { sessionId, end: 'destroyed', wave: 1 }, 'service: is required'],
    ['expire', SESSION_QUEUE, { sessionId: [sessionId] }, 'sessionId: must be a uuid'],
    ['session', SESSION_QUEUE, { ...session, ttlSeconds: '3600' }, 'ttlSeconds: must be an integer'],
    ['session', SESSION_QUEUE, { ...session, ttlSeconds: -1 }, 'ttlSeconds: must be positive'],
    ['session', SESSION_QUEUE, { ...session, createdAt: 'yesterday' }, 'createdAt: must be an ISO 8601 instant'],
    ['session', SESSION_QUEUE, { ...session, profile: '../../etc' }, 'profile: must be a profile name'],
    ['session', SESSION_QUEUE, { ...session, tenantIds: [tenant, 7] }, 'tenantIds.1: must be a uuid'],
    ['load-service', 'inventory', { ...load, phase: 9 }, 'phase: must be one of: 1, 2, 3, 4'],
    ['load-service', 'inventory', { ...load, dataDir: { path: '/' } }, 'dataDir: must be a path'],
    ['load-service', 'inventory', { ...load, tenantIds: [tenant] }, 'tenantIds: is not a field of this job'],
    ['load-service', 'sales', load, "service: must be the queue's service (sales)"],
  ];
  it.each(cases)('refuse %s on %s with %j: %s', (name, queue, data, problem) => {
    const problems = jobDataProblems(name, queue, data);
    expect(
      problems.some((p) => p.startsWith(problem)),
      problems.join('; '),
    ).toBe(true);
  });

  it('name every bad field of a job at once', () => {
    expect(
      jobDataProblems('cleanup-service', 'inventory', { sessionId: 1, end: 2, service: 'inventory', wave: 'x' }),
    ).toEqual(['sessionId: must be a uuid', 'end: must be destroyed or expired', 'wave: must be an integer']);
  });

  it('accept an older cleanup that names its tenants (checked against the record by the worker)', () => {
    expect(jobDataProblems('cleanup', SESSION_QUEUE, { sessionId, end: 'destroyed', tenantIds: [tenant] })).toEqual([]);
  });

  it('fail a job with bad data for good, naming the job, its queue and the field', () => {
    const job = {
      name: 'cleanup' as const,
      queueName: SESSION_QUEUE,
      id: 'j1',
      data: { sessionId: 42, end: 'destroyed' },
    };
    expect(() => parseJobData(job)).toThrow(UnrecoverableError);
    expect(() => parseJobData(job)).toThrow(
      `job "cleanup" j1 on queue ${SESSION_QUEUE} refused: bad data: sessionId: must be a uuid`,
    );
    const good = { ...job, data: { sessionId, end: 'destroyed' } };
    expect(parseJobData(good)).toEqual({ sessionId, end: 'destroyed' });
  });
});
