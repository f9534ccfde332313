/**
 * The image, built and run: the repository's Dockerfile built with podman (on a base image made
 * here from Debian's packages and this machine's node, test/deploy/images/prepare-images.sh),
 * then run against this test's PostgreSQL databases and Redis queue prefix: `--help`, `migrate`,
 * the API and a worker as two containers, and a session created through the containerized API
 * that ends ready with the data rules holding. Then the whole stack: docker-compose.yml brought up
 * with podman-compose (stand-in postgres and redis images), a session through its API, and down.
 * Skipped, with the reason, only where podman or the base images cannot be had.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KEYS, SERVICES } from '../../src/catalog/services.ts';
import { databaseName, loadConfig } from '../../src/config/env.ts';
import { Databases } from '../../src/db/pools.ts';
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
  podmanComposeCommand,
  podmanRun,
  ROOT,
  run,
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

/** Every `${NAME:-default}` of docker-compose.yml with its default. */
function composeDefaults(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/\$\{([A-Z_][A-Z0-9_]*):-([^}]*)\}/g)) out[m[1] as string] ??= m[2] as string;
  return out;
}

describe.skipIf(blocked !== undefined)('docker-compose.yml brought up with podman-compose', () => {
  const project = `demoseedt${randomUUID().replace(/-/g, '').slice(0, 8)}`;
  const defaults = composeDefaults(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'));
  let env: NodeJS.ProcessEnv = {};
  let up: ChildProcess | undefined;
  let upOutput = '';
  let upExited: Promise<number | null> | undefined;
  let apiUrl = '';
  let dbs: Databases | undefined;

  const compose = (args: string[], timeoutMs = 120_000) =>
    run(podmanComposeCommand(['-p', project, '-f', 'docker-compose.yml', ...args]), { env, timeoutMs });
  const tail = () => upOutput.split('\n').slice(-60).join('\n');

  beforeAll(async () => {
    const [redisPort, postgresPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    apiUrl = `http://127.0.0.1:${apiPort}`;
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      // The file's own defaults, given explicitly: podman-compose 1.3 resolves a service variable
      // written `NAME: ${NAME:-default}` to the text itself unless NAME is in its environment.
      ...defaults,
      DEMO_SEED_IMAGE: IMAGE,
      REDIS_HOST_PORT: String(redisPort),
      POSTGRES_HOST_PORT: String(postgresPort),
      API_HOST_PORT: String(apiPort),
    };
    // The image the first describe built (once per run).
    await buildImage();
    // Attached, as `docker compose up`: podman-compose 1.3 waits for depends_on's conditions
    // (service_healthy, service_completed_successfully) only when it starts the containers itself.
    const [cmd, ...args] = podmanComposeCommand(['-p', project, '-f', 'docker-compose.yml', 'up', '--no-build']);
    up = spawn(cmd as string, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    up.stdout?.on('data', (b: Buffer) => (upOutput += b.toString()));
    up.stderr?.on('data', (b: Buffer) => (upOutput += b.toString()));
    upExited = new Promise((resolve) => up?.once('exit', (code) => resolve(code)));
    const cfg = loadConfig({
      DATABASE_URL: `postgres://postgres:${defaults.POSTGRES_PASSWORD}@127.0.0.1:${postgresPort}/postgres`,
      PG_POOL_SIZE: '2',
    });
    dbs = new Databases(cfg);
  }, BUILD_TIMEOUT);

  afterAll(async () => {
    const down = await compose(['down', '-v'], 180_000);
    if (down.code !== 0) console.warn(`[image.test] podman-compose down -v: ${down.stdout}${down.stderr}`);
    if (up && up.exitCode === null) up.kill('SIGKILL');
    await dbs?.close();
    // Anything down left (a failed up): the project's containers, pod and volumes.
    await podman(['rm', '-f', '-t', '0', '--filter', `label=io.podman.compose.project=${project}`], 60_000);
    await podman(['pod', 'rm', '-f', '--ignore', `pod_${project}`], 60_000);
    await podman(['volume', 'rm', '-f', `${project}_postgres-data`, `${project}_redis-data`], 60_000);
  }, 240_000);

  it('starts postgres and redis healthy, then migrate to completion, then the API and two workers', async () => {
    try {
      await waitForHttp(`${apiUrl}/readyz`, [], 180_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}\npodman-compose up:\n${tail()}`);
    }
    const ids = await podman(['ps', '-a', '-q', '--filter', `label=io.podman.compose.project=${project}`]);
    const ps = await podman([
      'inspect',
      '--format',
      '{{.Name}} {{.State.Status}} {{.State.ExitCode}}',
      ...ids.stdout.trim().split('\n'),
    ]);
    const state = Object.fromEntries(
      ps.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' ') as [string, string, string])
        .map(([n, st, code]) => [n.replace(`${project}_`, ''), `${st} ${code}`]),
    );
    expect(state, ps.stdout).toEqual({
      redis_1: 'running 0',
      postgres_1: 'running 0',
      migrate_1: 'exited 0',
      api_1: 'running 0',
      worker_1: 'running 0',
      worker_2: 'running 0',
    });
  }, 200_000);

  it('loads a session created through the stack: ready, with the manifest counts in its PostgreSQL', async () => {
    const res = await fetch(`${apiUrl}${PATH}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ demo_account_type: 'professional', email: `compose-${project}@example.com` }),
    });
    const created = (await res.json()) as { session_id?: string };
    expect(res.status, `${JSON.stringify(created)}\n${await logsOf(`${project}_api_1`)}`).toBe(202);
    const view = await eventually(
      async () => {
        const r = await fetch(`${apiUrl}${PATH}/${created.session_id}`);
        const v = (await r.json()) as SessionView;
        return ['ready', 'failed', 'destroyed', 'expired'].includes(v.status) ? v : undefined;
      },
      120_000,
      `session ${created.session_id} to end loading`,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${tail()}`);
    });
    expect(view.status, view.error ?? '').toBe('ready');
    const manifest = await readManifest('professional');
    const rows = await sessionRows(dbs as Databases, view.tenant_ids);
    expect(countsOf(rows)).toEqual(manifest.counts);
    for (const [table, list] of rows) for (const r of list) expect(view.tenant_ids, table).toContain(r.tenant_id);
  }, 180_000);

  it('stops and removes the stack and its volumes with podman-compose down -v', async () => {
    await dbs?.close();
    dbs = undefined;
    const down = await compose(['down', '-v'], 180_000);
    expect(down.code, `${down.stdout}${down.stderr}`).toBe(0);
    expect(await upExited).not.toBeUndefined();
    const ps = await podman(['ps', '-a', '-q', '--filter', `label=io.podman.compose.project=${project}`]);
    expect(ps.stdout.trim()).toBe('');
    const volumes = await podman(['volume', 'ls', '-q', '--filter', `name=${project}`]);
    expect(volumes.stdout.trim()).toBe('');
  }, 200_000);
});
