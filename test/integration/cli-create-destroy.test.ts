import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHASES, SERVICES, servicesOfPhase } from '../../src/catalog/services.ts';
import { createHarness, type Harness } from '../support/harness.ts';
import { countsOf, leftoverCount, sessionRows } from '../support/data-rules.ts';
import { readManifest } from '../support/sessions.ts';

/**
 * `demo-seed create` and `demo-seed destroy` as the Kubernetes Job runs them: a real
 * process, no worker running elsewhere (create starts its own), its exit code, its
 * per-phase and per-service output on stdout and the runbook's log lines on stderr
 * (`grep "Phase.*completed"`, `grep duration_ms`).
 */
interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly logs: Record<string, unknown>[];
}

function cli(h: Harness, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['bin/demo-seed.js', ...args], {
      env: { ...h.env, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`demo-seed ${args.join(' ')} did not exit within 90 s:\n${stderr}`));
    }, 90_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      const logs = stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, stdout, stderr, logs });
    });
  });
}

describe('demo-seed create / destroy (the Kubernetes Job)', () => {
  let h: Harness;
  let sessionId = '';
  let tenantIds: string[] = [];

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('create starts its own workers, loads a professional session, prints each phase and service, and exits 0', async () => {
    const run = await cli(h, ['create', '--profile', 'professional', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    const view = JSON.parse(lines.at(-1) as string) as {
      session_id: string;
      status: string;
      tenant_ids: string[];
      services: Record<string, { status: string; rows: number }>;
    };
    expect(view.status).toBe('ready');
    sessionId = view.session_id;
    tenantIds = view.tenant_ids;

    // Per service: its phase, status and rows, equal to the manifest's counts.
    const manifest = await readManifest('professional');
    for (const p of PHASES) {
      for (const s of servicesOfPhase(p)) {
        const rows = Object.values(manifest.counts[s] ?? {}).reduce((a, b) => a + b, 0);
        expect(view.services[s]?.rows).toBe(rows);
        expect(run.stdout).toMatch(new RegExp(`^${p}\\s+${s}\\s+ready\\s+${rows}\\s+\\d+$`, 'm'));
      }
      expect(run.stdout).toMatch(new RegExp(`^${p}\\s+\\(phase\\)\\s+completed\\s+\\d+\\s+\\d+$`, 'm'));
    }
    expect(run.stdout).toMatch(new RegExp(`^session ${sessionId}: ready in \\d+ ms$`, 'm'));

    // The runbook's log lines: one `Phase N completed` per phase with rows and duration_ms.
    expect(run.logs.some((l) => l.msg === 'no workers are running: starting them in this process')).toBe(true);
    for (const p of PHASES) {
      const line = run.logs.find((l) => l.msg === `Phase ${p} completed`);
      expect(line, `Phase ${p} completed`).toBeDefined();
      expect(line?.session_id).toBe(sessionId);
      expect(line?.rows).toBeGreaterThan(0);
      expect(typeof line?.duration_ms).toBe('number');
    }
    // The rows are in the databases, as the manifest says.
    expect(countsOf(await sessionRows(h.rt.dbs, tenantIds))).toEqual(manifest.counts);
  });

  it('destroy removes every row of the session, prints the rows per service and exits 0', async () => {
    expect(sessionId).not.toBe('');
    const before = await leftoverCount(h.rt.dbs, tenantIds);
    expect(before).toBeGreaterThan(0);
    const run = await cli(h, ['destroy', sessionId]);
    expect(run.code, run.stderr).toBe(0);
    const m = new RegExp(`^session ${sessionId} destroyed: (\\d+) rows removed in \\d+ ms$`, 'm').exec(run.stdout);
    expect(m, run.stdout).not.toBeNull();
    expect(Number(m?.[1])).toBe(before);
    for (const s of SERVICES) expect(run.stdout).toMatch(new RegExp(`^  ${s}\\s+\\d+$`, 'm'));
    expect(await leftoverCount(h.rt.dbs, tenantIds)).toBe(0);
    const { rows } = await h.rt.dbs
      .pool('demo_session')
      .query('SELECT status FROM demo_sessions WHERE session_id = $1', [sessionId]);
    expect(rows[0]?.status).toBe('destroyed');
  });

  it('bad arguments exit non-zero naming what is wrong, and leave no session behind', async () => {
    const unknown = await cli(h, ['create', '--profile', 'no-such-profile']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/no-such-profile/);
    expect(unknown.stderr).not.toMatch(/\bat .+\.(ts|js):\d+/);

    const badTier = await cli(h, ['create', '--profile', 'professional', '--subscription-tier', 'gold']);
    expect(badTier.code).toBe(2);
    expect(badTier.stderr).toMatch(/--subscription-tier must be one of starter, professional, enterprise, got "gold"/);

    const badId = await cli(h, ['destroy', 'not-a-uuid']);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(/session id must be a uuid, got "not-a-uuid"/);

    const missing = await cli(h, ['destroy', randomUUID()]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no session/);

    const { rows } = await h.rt.dbs
      .pool('demo_session')
      .query<{ n: string }>('SELECT count(*) AS n FROM demo_sessions');
    expect(Number(rows[0]?.n)).toBe(1); // the professional session above, destroyed
  });
});
