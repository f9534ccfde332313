import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { startTestApi, client } from '../api/helpers.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import type { RunningApi } from '../../src/api/server.ts';

/**
 * k8s/monitoring: the Grafana dashboard and the alert rules. Every metric they query is one
 * the API exports (read from a real /metrics); the rules pass `promtool check rules` and the
 * unit tests of alerts.test.yml (`promtool test rules`), and the PrometheusRule holds the
 * same groups as the plain rules file.
 */
const DIR = path.resolve(import.meta.dirname, '../../k8s/monitoring');
const promtool = spawnSync('promtool', ['--version']).status === 0;

interface Rule {
  alert: string;
  expr: string;
}
const rulesFile = parse(readFileSync(path.join(DIR, 'alerts.rules.yml'), 'utf8')) as { groups: { rules: Rule[] }[] };
const dashboard = JSON.parse(readFileSync(path.join(DIR, 'dashboard.json'), 'utf8')) as {
  panels: { title: string; targets: { expr: string }[] }[];
};

/** The metric names an expression uses (demo_*; histogram series names back to their metric). */
function metricsOf(expr: string): string[] {
  // Label names (in `by (…)`, `without (…)` and `{…}` matchers) are not metrics.
  const bare = expr.replace(/\b(by|without)\s*\([^)]*\)/g, '').replace(/\{[^}]*\}/g, '');
  return [...bare.matchAll(/\bdemo_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''));
}

describe('k8s/monitoring', () => {
  let h: Harness;
  let api: RunningApi;
  let exported: Set<string>;

  beforeAll(async () => {
    h = await createHarness();
    api = await startTestApi(h);
    const text = (await client(api).get('/metrics')).text;
    exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] as string));
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
  });

  it('every metric the dashboard and the alerts query is exported by /metrics', () => {
    const queried = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
      ...rulesFile.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
    ];
    expect(queried.length).toBeGreaterThan(10);
    const missing = queried.flatMap((q) =>
      metricsOf(q.expr)
        .filter((m) => !exported.has(m))
        .map((m) => `${q.where}: ${m}`),
    );
    expect(missing).toEqual([]);
    // The queue gauges carry every queue, read from BullMQ at scrape time.
    expect(exported).toContain('demo_queue_workers');
  });

  it('the dashboard covers sessions, load times, queues, failures and cleanups', () => {
    const all = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    for (const m of [
      'demo_sessions_created_total',
      'demo_sessions_finished_total',
      'demo_session_duration_seconds_bucket',
      'demo_service_load_duration_seconds_bucket',
      'demo_queue_jobs',
      'demo_queue_oldest_waiting_seconds',
      'demo_job_retries_total',
      'demo_sessions_removed_total',
    ]) {
      expect(all).toContain(m);
    }
  });

  it('ships the dashboard as a ConfigMap with the Grafana sidecar label, and the PrometheusRule with the same groups', () => {
    const rendered = execFileSync('kubectl', ['kustomize', DIR], { encoding: 'utf8' });
    const objs = parseAllDocuments(rendered).map(
      (d) =>
        d.toJSON() as {
          kind: string;
          metadata: { labels?: Record<string, string> };
          data?: Record<string, string>;
          spec?: unknown;
        },
    );
    const cm = objs.find((o) => o.kind === 'ConfigMap');
    expect(cm?.metadata.labels?.grafana_dashboard).toBe('1');
    expect(JSON.parse(cm?.data?.['demo-seed.json'] ?? '{}')).toEqual(dashboard);
    const pr = objs.find((o) => o.kind === 'PrometheusRule');
    expect(pr?.spec).toEqual({ groups: rulesFile.groups });
  });

  it.skipIf(!promtool)(
    'promtool check rules and promtool test rules pass (each alert fires on synthetic series)',
    () => {
      const check = spawnSync('promtool', ['check', 'rules', 'alerts.rules.yml'], { cwd: DIR, encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
      expect(check.stdout).toMatch(/SUCCESS: 8 rules found/);
      const test = spawnSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: DIR, encoding: 'utf8' });
      expect(test.status, test.stdout + test.stderr).toBe(0);
      // Every alert has a test in which it fires.
      const tests = readFileSync(path.join(DIR, 'alerts.test.yml'), 'utf8');
      for (const g of rulesFile.groups) for (const r of g.rules) expect(tests).toContain(`alertname: ${r.alert}`);
    },
  );
});
