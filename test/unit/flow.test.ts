import { describe, expect, it } from 'vitest';
import {
  dependenciesDone,
  dependentsOf,
  PHASES,
  SERVICES,
  SERVICE_SPECS,
  servicesOfPhase,
  transitiveDependencies,
  WAVES,
  waveOf,
} from '../../src/catalog/services.ts';
import { consumedEntities, publishedEntities, splitEntity, TABLES } from '../../src/catalog/tables.ts';
import { loadConfig } from '../../src/config/env.ts';
import { buildSessionFlow, serviceJobs } from '../../src/flows/build-flow.ts';
import type { SessionJobData } from '../../src/flows/jobs.ts';

const cfg = loadConfig({ JOB_ATTEMPTS: '4', JOB_BACKOFF_MS: '150' });
const data: SessionJobData = {
  sessionId: '0b6f2c1e-8a7d-4c3b-9e1f-2d3c4b5a6978',
  profile: 'professional',
  dataDir: '/seed-data',
  createdAt: '2026-11-24T10:00:00.000Z',
  ttlSeconds: 1800,
  tenantIds: ['1b6f2c1e-8a7d-4c3b-9e1f-2d3c4b5a6978'],
};

describe('service catalog', () => {
  it('never puts a service in an earlier phase than a service it depends on', () => {
    for (const s of SERVICES) {
      for (const dep of SERVICE_SPECS[s].dependsOn)
        expect(SERVICE_SPECS[dep].phase).toBeLessThanOrEqual(SERVICE_SPECS[s].phase);
    }
    expect(PHASES.flatMap((p) => servicesOfPhase(p)).sort()).toEqual([...SERVICES].sort());
  });

  it('puts every service one wave after the latest of its dependencies', () => {
    expect(WAVES.flat().sort()).toEqual([...SERVICES].sort());
    for (const s of SERVICES) {
      const deps = SERVICE_SPECS[s].dependsOn;
      for (const dep of deps) expect(waveOf(dep), `${dep} before ${s}`).toBeLessThan(waveOf(s));
      expect(waveOf(s)).toBe(deps.length === 0 ? 1 : Math.max(...deps.map(waveOf)) + 1);
      expect(WAVES[waveOf(s) - 1]).toContain(s);
    }
    expect(WAVES[0]).toEqual(['tenant', 'inventory', 'suppliers']);
    expect(WAVES.at(-1)).toEqual(['orchestrator']);
  });

  it('counts a service startable once all its dependencies, and only they, are done', () => {
    for (const s of SERVICES) {
      const deps = SERVICE_SPECS[s].dependsOn;
      expect(dependenciesDone(s, new Set(deps)), s).toBe(true);
      for (const missing of deps)
        expect(dependenciesDone(s, new Set(deps.filter((d) => d !== missing))), `${s} without ${missing}`).toBe(false);
    }
  });

  it('names as dependents exactly the services that list a service among their dependencies', () => {
    for (const s of SERVICES) {
      for (const t of SERVICES)
        expect(dependentsOf(s).includes(t), `${t} depends on ${s}`).toBe(SERVICE_SPECS[t].dependsOn.includes(s));
    }
    expect(dependentsOf('inventory').sort()).toEqual([
      'forecasting',
      'orders',
      'procurement',
      'production',
      'recipes',
      'sales',
    ]);
  });

  it('lets a service reference only its own tables and those of services it depends on', () => {
    for (const s of SERVICES) {
      const deps = transitiveDependencies(s);
      for (const e of consumedEntities(s)) expect(deps.has(splitEntity(e).service), `${s} reads ${e}`).toBe(true);
    }
  });

  it('gives every seeded table an id and a tenant_id', () => {
    for (const s of SERVICES) {
      for (const t of TABLES[s]) {
        expect(Object.keys(t.columns).slice(0, 2), `${s}.${t.name}`).toEqual(['id', 'tenant_id']);
      }
    }
    expect(publishedEntities('inventory')).toContain('inventory.products');
  });
});

describe('session flow', () => {
  const flow = buildSessionFlow(cfg, data);

  it('is a session job with the services that depend on nothing as children', () => {
    expect(flow.queueName).toBe('demo-session');
    expect(flow.children?.map((c) => c.queueName).sort()).toEqual(
      SERVICES.filter((s) => SERVICE_SPECS[s].dependsOn.length === 0).sort(),
    );
  });

  it('sets attempts and exponential backoff on every job, and ids without ":"', () => {
    const jobs = [flow, ...WAVES.flatMap((w) => serviceJobs(cfg, data, w))];
    for (const j of jobs) {
      expect(j.opts?.attempts, j.queueName).toBeGreaterThanOrEqual(4);
      expect(j.opts?.backoff).toMatchObject({ type: 'exponential' });
      expect(j.opts?.jobId).toBeDefined();
      expect(j.opts?.jobId).not.toContain(':');
    }
  });

  it('records a failed child on the parent instead of leaving it waiting', () => {
    for (const j of serviceJobs(cfg, data, SERVICES)) expect(j.opts?.ignoreDependencyOnFailure).toBe(true);
  });

  it('adds jobs to a running session job as its children, with their wave', () => {
    const parent = { id: data.sessionId, queue: '{p}:demo-session' };
    for (const j of serviceJobs(cfg, data, ['orchestrator', 'auth'], parent)) expect(j.opts?.parent).toEqual(parent);
    expect(
      serviceJobs(cfg, data, ['orchestrator', 'auth']).map((j) => [(j.data as { wave: number }).wave, j.opts?.parent]),
    ).toEqual([
      [4, undefined],
      [2, undefined],
    ]);
  });

  it('gives each service of a session one fixed job id, so adding it again is a no-op', () => {
    const a = serviceJobs(cfg, data, SERVICES).map((j) => j.opts?.jobId);
    const b = serviceJobs(cfg, data, SERVICES, { id: 'x', queue: 'p:demo-session' }).map((j) => j.opts?.jobId);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(SERVICES.length);
  });
});
