/**
 * The image, built and run: the repository's Dockerfile built with podman (on a base image made
 * here from Debian's packages and this machine's node, test/deploy/images/prepare-images.sh),
 * then run against this test's PostgreSQL databases and Redis queue prefix: `--help`, `migrate`,
 * the API and a worker as two containers, and a session created through the containerized API
 * that ends ready with the data rules holding.
 * Skipped, with the reason, only where podman or the base images cannot be had.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KEYS, SERVICES } from '../../src/catalog/services.ts';
import { databaseName, loadConfig } from '../../src/config/env.ts';
import type { SessionView } from '../../src/sessions/session-view.ts';
import { countsOf, sessionRows, type RowsByTable } from '../support/data-rules.ts';
import { createHarness, eventually, type Harness } from '../support/harness.ts';
import { readManifest } from '../support/sessions.ts';
import {
  IMAGE,
  buildImage,
  envArgs,
  freePort,
  imageTestsBlocked,
  logsOf,
  podman,
  podmanRun,
  waitForHttp,
} from './images/podman.ts';

const blocked = imageTestsBlocked();
if (blocked) console.warn(`[image.test] skipped: ${blocked}`);

const BUILD_TIMEOUT = 16 * 60_000;
const PATH = '/api/v1/demo-sessions';

describe.skipIf(blocked !== undefined)('the image built with podman and run', () => {
  const id = randomUUID().replace(/-/g, '').slice(0, 10);
  // Small pools: PostgreSQL's max_connections is shared with every other test file running.
  const world = { DB_NAME_PREFIX: `t${id}_`, QUEUE_PREFIX: `{t-${id}}`, PG_POOL_SIZE: '2' };
  // The containers share the host's network: they reach this test's PostgreSQL and Redis on 127.0.0.1.
  const containerEnv = {
    DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    ...world,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  };
  const names = { api: `demo-seed-test-api-${id}`, worker: `demo-seed-test-worker-${id}` };
  let h: Harness | undefined;
  let apiUrl = '';
  let workerUrl = '';

  beforeAll(async () => {
    await buildImage();
  }, BUILD_TIMEOUT);

  afterAll(async () => {
    await podman(['rm', '-f', '-t', '5', names.api, names.worker], 60_000);
    // The databases the containers' migrate made, and the queue keys: the harness removes them.
    h ??= await createHarness(world).catch(() => undefined);
    await h?.close();
  }, 120_000);

  it('runs as uid 1000, as the Dockerfile says (USER 1000:1000)', async () => {
    const inspect = await podman(['image', 'inspect', '--format', '{{.Config.User}}', IMAGE]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout.trim()).toBe('1000:1000');
    const ids = await podmanRun(['--rm', '--network', 'host', '--entrypoint', 'id', IMAGE, '-u']);
    expect(ids.code, ids.stderr).toBe(0);
    expect(ids.stdout.trim()).toBe('1000');
    const gid = await podmanRun(['--rm', '--network', 'host', '--entrypoint', 'id', IMAGE, '-g']);
    expect(gid.stdout.trim()).toBe('1000');
  });

  it('keeps the HEALTHCHECK and the CLI entrypoint with start as the default command', async () => {
    const r = await podman([
      'image',
      'inspect',
      '--format',
      '{{json .Config.Entrypoint}}\n{{json .Config.Cmd}}\n{{json .Config.Healthcheck.Test}}',
      IMAGE,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [entrypoint, cmd, health] = r.stdout.trim().split('\n') as [string, string, string];
    expect(JSON.parse(entrypoint)).toEqual(['node', 'bin/demo-seed.js']);
    expect(JSON.parse(cmd)).toEqual(['start']);
    expect((JSON.parse(health) as string[]).join(' ')).toMatch(/^CMD node -e .*\/healthz/);
  });

  it('prints the CLI help with --help', async () => {
    const r = await podmanRun(['--rm', '--network', 'host', IMAGE, '--help'], 60_000);
    expect(r.code, r.stderr).toBe(0);
    for (const cmd of ['migrate', 'start', 'worker', 'api', 'create', 'destroy'])
      expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
  });

  it("creates and migrates this test's databases with migrate", async () => {
    const r = await podmanRun(['--rm', '--network', 'host', ...envArgs(containerEnv), IMAGE, 'migrate'], 120_000);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const cfg = loadConfig({ ...process.env, ...world });
    const admin = new pg.Client({ connectionString: cfg.DATABASE_URL });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ datname: string }>(
        'SELECT datname FROM pg_database WHERE datname = ANY($1::text[])',
        [DATABASE_KEYS.map((k) => databaseName(cfg, k))],
      );
      expect(rows.map((r) => r.datname).sort()).toEqual(DATABASE_KEYS.map((k) => databaseName(cfg, k)).sort());
    } finally {
      await admin.end();
    }
    // The harness over the same world: its own migrate finds nothing left to do.
    h = await createHarness(world);
  });

  it('runs the API and a worker as two containers that answer /healthz and /readyz', async () => {
    const [apiPort, workerPort] = [await freePort(), await freePort()];
    apiUrl = `http://127.0.0.1:${apiPort}`;
    workerUrl = `http://127.0.0.1:${workerPort}`;
    const common = ['-d', '--network', 'host', ...envArgs(containerEnv)];
    const worker = await podmanRun(
      ['--name', names.worker, ...common, '-e', `WORKER_HEALTH_PORT=${workerPort}`, IMAGE, 'worker'],
      60_000,
    );
    expect(worker.code, worker.stderr).toBe(0);
    const api = await podmanRun(['--name', names.api, ...common, '-e', `PORT=${apiPort}`, IMAGE, 'api'], 60_000);
    expect(api.code, api.stderr).toBe(0);
    const both = [names.api, names.worker];
    await waitForHttp(`${workerUrl}/readyz`, both);
    await waitForHttp(`${apiUrl}/readyz`, both);
    await waitForHttp(`${apiUrl}/healthz`, both);
  }, 120_000);

  it('loads a session created through the containerized API: ready, and the data rules hold', async () => {
    expect(h, 'migrate ran').toBeDefined();
    const harness = h as Harness;
    const res = await fetch(`${apiUrl}${PATH}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ demo_account_type: 'professional', email: `image-${id}@example.com` }),
    });
    const created = (await res.json()) as { session_id?: string };
    expect(res.status, JSON.stringify(created)).toBe(202);
    const sessionId = created.session_id as string;
    let view: SessionView;
    try {
      view = await eventually(
        async () => {
          const r = await fetch(`${apiUrl}${PATH}/${sessionId}`);
          const v = (await r.json()) as SessionView;
          return ['ready', 'failed', 'destroyed', 'expired'].includes(v.status) ? v : undefined;
        },
        120_000,
        `session ${sessionId} to end loading`,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${await logsOf(names.worker)}`);
    }
    expect(view.status, view.error ?? '').toBe('ready');
    for (const s of SERVICES) expect(view.services[s].status, s).toBe('ready');

    // The data rules, in PostgreSQL: exactly the manifest's rows, every one on a session tenant.
    const manifest = await readManifest('professional');
    const rows: RowsByTable = await sessionRows(harness.rt.dbs, view.tenant_ids);
    expect(countsOf(rows)).toEqual(manifest.counts);
    for (const s of SERVICES) {
      const expected = Object.values(manifest.counts[s] ?? {}).reduce((a, b) => a + b, 0);
      expect(view.services[s].rows, s).toBe(expected);
    }
    expect(view.tenant_ids).toHaveLength(manifest.tenants.length);
    for (const [table, list] of rows) for (const r of list) expect(view.tenant_ids, table).toContain(r.tenant_id);
    // The worker container did the loading, on this test's queue prefix.
    expect(await logsOf(names.worker)).toContain(sessionId);
  }, 180_000);
});
