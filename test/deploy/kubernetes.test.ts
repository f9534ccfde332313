/**
 * The Kubernetes manifests (k8s/): rendered with `kubectl kustomize` for the base and both
 * overlays, each object checked against the Kubernetes schemas (kubernetes-models, KEDA models),
 * and the rendered objects checked against the service itself: the CLI commands and options,
 * the variables of src/config/env.ts, the ports and probe paths, the queues, and the files of
 * seed-data/ (read as they are now, never from a list).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { QueueKeys } from 'bullmq';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { SERVICES } from '../../src/catalog/services.ts';
import { CONFIG_VARIABLES, loadConfig, type Config } from '../../src/config/env.ts';
import { SESSION_QUEUE } from '../../src/flows/jobs.ts';
import { QUEUE_NAMES } from '../../src/flows/queues.ts';
import {
  checkValues,
  loadCli,
  ROOT,
  SEED_DATA,
  seedDataFiles,
  seedProfiles,
  typeCheckManifests,
  type Cli,
  type ParsedCommand,
} from './support.ts';

// ---------------------------------------------------------------------------------------------
// Types of the rendered objects (checked against the real schemas first)

interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface K8s {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  [k: string]: unknown;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}
interface EnvFrom {
  configMapRef?: { name: string };
  secretRef?: { name: string };
}
interface Probe {
  httpGet?: { path: string; port: number | string };
  exec?: { command: string[] };
}
interface Mount {
  name: string;
  mountPath: string;
  subPath?: string;
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: EnvFrom[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: Mount[];
}
interface KeyToPath {
  key: string;
  path: string;
}
interface Volume {
  name: string;
  configMap?: { name: string; items?: KeyToPath[] };
  projected?: { sources: { configMap?: { name: string; items?: KeyToPath[] } }[] };
  secret?: { secretName: string };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  restartPolicy?: string;
  terminationGracePeriodSeconds?: number;
}
interface Workload extends K8s {
  spec: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
    backoffLimit?: number;
    ttlSecondsAfterFinished?: number;
    activeDeadlineSeconds?: number;
  };
}
interface DataObject extends K8s {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}
interface Trigger {
  type: string;
  metadata: Record<string, string>;
}
interface ScaledObjectSpec {
  scaleTargetRef: { name: string; kind?: string };
  minReplicaCount?: number;
  maxReplicaCount?: number;
  triggers: Trigger[];
}

// ---------------------------------------------------------------------------------------------
// Rendering

const TARGETS = ['k8s/base', 'k8s/overlays/dev', 'k8s/overlays/prod'] as const;
type Target = (typeof TARGETS)[number];
const NAMESPACE = 'bakery-ia';
const SECRET = 'demo-session-secrets';
/** Probe paths the service serves (contract, "HTTP API"). */
const HEALTHZ = '/healthz';
const READYZ = '/readyz';
/** The image's WORKDIR: relative paths in the config resolve against it. */
const WORKDIR = '/app';

function kustomizeVersion(): string | null {
  const r = spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  try {
    return (JSON.parse(r.stdout) as { kustomizeVersion?: string }).kustomizeVersion ?? null;
  } catch {
    return null;
  }
}
const KUSTOMIZE = kustomizeVersion();
const HAVE_KUSTOMIZE = KUSTOMIZE !== null && /^v?5\./.test(KUSTOMIZE);
if (!HAVE_KUSTOMIZE) {
  console.warn(
    `test/deploy: kubectl with kustomize v5 not found (${KUSTOMIZE ?? 'no kubectl'}): the rendering checks are skipped`,
  );
}

function render(target: Target): K8s[] {
  const yaml = execFileSync('kubectl', ['kustomize', path.join(ROOT, target)], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return parseAllDocuments(yaml)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${target}: ${d.errors.map((e) => e.message).join('; ')}`);
      return d.toJS() as K8s | null;
    })
    .filter((o): o is K8s => o !== null);
}

// ---------------------------------------------------------------------------------------------
// Helpers over the rendered objects

const label = (o: K8s) => `${o.kind}/${o.metadata.name}`;
const of = <T extends K8s>(objs: readonly K8s[], kind: string) => objs.filter((o) => o.kind === kind) as T[];
const isAppImage = (image: string) => /(^|\/)demo-seed(:[^/]+|@sha256:[0-9a-f]+)?$/.test(image);
/** A generated object's name without kustomize's hash suffix. */
const baseName = (name: string) => name.replace(/-[a-z0-9]{10}$/, '');

function workloads(objs: readonly K8s[]): Workload[] {
  return objs.filter((o) => o.kind === 'Deployment' || o.kind === 'Job') as Workload[];
}
/** Deployments and Jobs of the service itself (not the dev overlay's PostgreSQL and Redis). */
function ownWorkloads(objs: readonly K8s[]): Workload[] {
  return workloads(objs).filter((w) => w.spec.template.spec.containers.some((c) => isAppImage(c.image)));
}
function appContainers(w: Workload): Container[] {
  const s = w.spec.template.spec;
  return [...(s.initContainers ?? []), ...s.containers].filter((c) => isAppImage(c.image));
}
function mainContainer(w: Workload): Container {
  const c = w.spec.template.spec.containers.find((x) => isAppImage(x.image));
  if (!c) throw new Error(`${label(w)}: no demo-seed container`);
  return c;
}
function find<T extends K8s>(objs: readonly K8s[], kind: string, name: string): T | undefined {
  return objs.find((o) => o.kind === kind && o.metadata.name === name) as T | undefined;
}
const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
function secretData(s: DataObject): Record<string, string> {
  return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, decode(v)]));
}

interface ContainerEnv {
  /** Every variable the container gets, with its value where the manifests hold it. */
  readonly values: Record<string, string>;
  readonly names: Set<string>;
  /** Secrets referenced but not rendered (prod: created by the operator). */
  readonly external: Set<string>;
}
function containerEnv(c: Container, objs: readonly K8s[]): ContainerEnv {
  const values: Record<string, string> = {};
  const names = new Set<string>();
  const external = new Set<string>();
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = find<DataObject>(objs, 'ConfigMap', from.configMapRef.name);
      if (!cm) throw new Error(`${c.name}: envFrom ConfigMap ${from.configMapRef.name} is not in the output`);
      for (const [k, v] of Object.entries(cm.data ?? {})) {
        names.add(k);
        values[k] = v;
      }
    }
    if (from.secretRef) {
      const s = find<DataObject>(objs, 'Secret', from.secretRef.name);
      if (!s) external.add(from.secretRef.name);
      else {
        for (const [k, v] of Object.entries(secretData(s))) {
          names.add(k);
          values[k] = v;
        }
      }
    }
  }
  for (const e of c.env ?? []) {
    names.add(e.name);
    if (e.value !== undefined) values[e.name] = e.value;
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) {
      const s = find<DataObject>(objs, 'Secret', ref.name);
      if (!s) external.add(ref.name);
      else if (s.data?.[ref.key] !== undefined) values[e.name] = decode(s.data[ref.key]!);
    }
    const cref = e.valueFrom?.configMapKeyRef;
    if (cref) {
      const cm = find<DataObject>(objs, 'ConfigMap', cref.name);
      if (cm?.data?.[cref.key] !== undefined) values[e.name] = cm.data[cref.key]!;
    }
  }
  return { values, names, external };
}
/** The service's configuration as the container would load it. */
function containerConfig(c: Container, objs: readonly K8s[]): Config {
  return loadConfig(containerEnv(c, objs).values);
}

function portNumber(c: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

/** CPU in millicores, memory in bytes. */
function quantity(q: string | undefined): number {
  if (q === undefined) return NaN;
  const m = /^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(q));
  if (!m) return NaN;
  const n = Number(m[1]);
  const unit = m[2] ?? '';
  const f: Record<string, number> = {
    '': 1,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
  };
  return n * f[unit]!;
}

const parsedArgs = new Map<string, ParsedCommand>();
async function parseArgs(cli: Cli, c: Container, who: string): Promise<ParsedCommand> {
  if (c.command !== undefined)
    throw new Error(
      `${who}: sets command ${JSON.stringify(c.command)}; use args so the image's entrypoint (demo-seed) runs`,
    );
  const key = JSON.stringify(c.args ?? []);
  let p = parsedArgs.get(key);
  if (!p) {
    p = await cli.parse(c.args ?? []);
    parsedArgs.set(key, p);
  }
  return p;
}

/** Queues a `demo-seed worker ...` process serves. */
function queuesOf(cmd: ParsedCommand): string[] {
  const services = cmd.options.get('services');
  const list = typeof services === 'string' ? services.split(',').map((s) => s.trim()) : [...SERVICES];
  return cmd.options.has('no-session-queue') ? list : [SESSION_QUEUE, ...list];
}

/** The files a container sees through its ConfigMap volumes: absolute path -> content. */
function visibleConfigMapFiles(
  w: Workload,
  c: Container,
  objs: readonly K8s[],
): { files: Map<string, Buffer>; dirMounts: string[] } {
  const files = new Map<string, Buffer>();
  const dirMounts: string[] = [];
  const volumes = new Map((w.spec.template.spec.volumes ?? []).map((v) => [v.name, v]));
  const entries = (name: string, items: KeyToPath[] | undefined): [string, Buffer][] => {
    const cm = find<DataObject>(objs, 'ConfigMap', name);
    if (!cm) throw new Error(`${label(w)}: volume ConfigMap ${name} is not in the output`);
    const all = new Map<string, Buffer>([
      ...Object.entries(cm.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'utf8')] as [string, Buffer]),
      ...Object.entries(cm.binaryData ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')] as [string, Buffer]),
    ]);
    if (!items) return [...all];
    return items.map((i) => [i.path, all.get(i.key) ?? Buffer.alloc(0)]);
  };
  for (const m of c.volumeMounts ?? []) {
    const v = volumes.get(m.name);
    if (!v) throw new Error(`${label(w)}/${c.name}: mounts unknown volume ${m.name}`);
    let list: [string, Buffer][] | undefined;
    if (v.configMap) list = entries(v.configMap.name, v.configMap.items);
    else if (v.projected)
      list = v.projected.sources.flatMap((s) => (s.configMap ? entries(s.configMap.name, s.configMap.items) : []));
    if (!list) continue;
    if (m.subPath !== undefined) {
      const hit = list.find(([p]) => p === m.subPath);
      if (hit) files.set(m.mountPath, hit[1]);
    } else {
      dirMounts.push(m.mountPath);
      for (const [p, bytes] of list) files.set(path.posix.join(m.mountPath, p), bytes);
    }
  }
  return { files, dirMounts };
}

// ---------------------------------------------------------------------------------------------

const MODELS: Readonly<Record<string, new (data: never) => { validate(): void }>> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

const DEFAULTS = loadConfig({});
const SEED_FILES = seedDataFiles();
const PROFILES = seedProfiles();

describe('service defaults the manifests rely on', () => {
  it("serves the API on 8000 and a worker's health on 8001, and bounds worker shutdown at 10 s", () => {
    expect(DEFAULTS.PORT).toBe(8000);
    expect(DEFAULTS.WORKER_HEALTH_PORT).toBe(8001);
    expect(DEFAULTS.WORKER_CLOSE_TIMEOUT_MS).toBe(10_000);
    expect(DEFAULTS.QUEUE_PREFIX).toBe('{demo}');
  });
});

describe('k8s/base/seed-data (generated from seed-data/)', () => {
  it('is in sync with seed-data/: node k8s/sync-seed-data.mjs --check', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'k8s', 'sync-seed-data.mjs'), '--check'], {
      encoding: 'utf8',
    });
    expect(r.stderr + r.stdout, 'run `node k8s/sync-seed-data.mjs` after changing seed-data/').toMatch(
      /matches seed-data/,
    );
    expect(r.status).toBe(0);
  });

  it('seed-data/ has the professional and enterprise profiles', () => {
    expect(PROFILES).toEqual(expect.arrayContaining(['professional', 'enterprise']));
  });
});

describe.skipIf(!HAVE_KUSTOMIZE)('kubectl kustomize', () => {
  const rendered = new Map<Target, K8s[]>();
  let cli: Cli;
  beforeAll(async () => {
    for (const t of TARGETS) rendered.set(t, render(t));
    cli = await loadCli();
  });
  const objs = (t: Target) => rendered.get(t)!;

  describe.each(TARGETS)('%s', (target) => {
    it('renders objects that each pass their Kubernetes schema', () => {
      const list = objs(target);
      expect(list.length).toBeGreaterThan(0);
      const problems: string[] = [];
      for (const o of list) {
        const Model = MODELS[`${o.apiVersion}/${o.kind}`];
        if (!Model) {
          problems.push(`${label(o)}: no schema for ${o.apiVersion} ${o.kind}`);
          continue;
        }
        try {
          new Model(o as never).validate();
        } catch (err) {
          problems.push(`${label(o)}: ${(err as Error).message}`);
        }
      }
      expect(problems).toEqual([]);
    });

    it('has no unknown or misspelt fields (strict check against the model types)', () => {
      expect(typeCheckManifests(objs(target).map((o) => ({ label: label(o), obj: o })))).toEqual([]);
    }, 120_000);

    it(`puts every object in the ${NAMESPACE} namespace and names each one once`, () => {
      const seen = new Set<string>();
      for (const o of objs(target)) {
        if (o.kind !== 'Namespace') expect(o.metadata.namespace, label(o)).toBe(NAMESPACE);
        expect(seen.has(label(o)), `${label(o)} twice`).toBe(false);
        seen.add(label(o));
      }
    });

    it('generates one ConfigMap per seed-data folder holding exactly its files, byte for byte', () => {
      const cms = of<DataObject>(objs(target), 'ConfigMap').filter(
        (c) => baseName(c.metadata.name).startsWith('seed-data-') && baseName(c.metadata.name) !== 'seed-data-config',
      );
      const expected = new Map<string, Map<string, string>>();
      for (const f of SEED_FILES) {
        const name = f.folder === null ? `seed-data-${f.profile}` : `seed-data-${f.profile}-${f.folder}`;
        if (!expected.has(name)) expected.set(name, new Map());
        expected.get(name)!.set(f.name, f.rel);
      }
      expect(cms.map((c) => baseName(c.metadata.name)).sort()).toEqual([...expected.keys()].sort());
      for (const cm of cms) {
        const files = expected.get(baseName(cm.metadata.name))!;
        const keys = [...Object.keys(cm.data ?? {}), ...Object.keys(cm.binaryData ?? {})].sort();
        expect(keys, label(cm)).toEqual([...files.keys()].sort());
        let size = 0;
        for (const [key, rel] of files) {
          const want = readFileSync(path.join(SEED_DATA, rel));
          const got =
            cm.data?.[key] !== undefined
              ? Buffer.from(cm.data[key]!, 'utf8')
              : Buffer.from(cm.binaryData![key]!, 'base64');
          expect(got.equals(want), `${label(cm)} ${key} differs from seed-data/${rel}`).toBe(true);
          size += got.length;
        }
        // the API server refuses ConfigMaps over 1 MiB
        expect(size, `${label(cm)} is too big for a ConfigMap`).toBeLessThan(1024 * 1024 - 16 * 1024);
        if (size > 256 * 1024) {
          // client-side `kubectl apply` stores the object in a 256 KiB annotation
          expect(readFileSync(path.join(ROOT, 'docs', 'deployment.md'), 'utf8')).toContain('--server-side');
        }
      }
    });

    it('mounts every seed-data file at SEED_DATA_DIR/<path> in every pod that runs demo-seed', () => {
      const all = objs(target);
      const own = ownWorkloads(all);
      expect(own.length).toBeGreaterThan(0);
      for (const w of own) {
        const c = mainContainer(w);
        const cfg = containerConfig(c, all);
        const dataDir = path.posix.resolve(WORKDIR, cfg.SEED_DATA_DIR);
        const { files, dirMounts } = visibleConfigMapFiles(w, c, all);
        for (const f of SEED_FILES) {
          const at = `${dataDir}/${f.rel}`;
          expect(files.has(at), `${label(w)} does not see ${at}`).toBe(true);
          expect(
            files.get(at)!.equals(readFileSync(path.join(SEED_DATA, f.rel))),
            `${label(w)}: ${at} differs from seed-data/${f.rel}`,
          ).toBe(true);
        }
        const extra = [...files.keys()].filter(
          (p) => p.startsWith(`${dataDir}/`) && !SEED_FILES.some((f) => `${dataDir}/${f.rel}` === p),
        );
        expect(extra, `${label(w)} sees files that are not in seed-data/`).toEqual([]);
        // A mount point inside a ConfigMap volume cannot be created (read-only volume).
        for (const d of dirMounts) {
          const nested = (c.volumeMounts ?? []).filter((m) => m.mountPath !== d && m.mountPath.startsWith(`${d}/`));
          expect(
            nested.map((m) => m.mountPath),
            `${label(w)}: mounts inside the ConfigMap volume at ${d}`,
          ).toEqual([]);
        }
      }
    });

    it('runs only commands and options the demo-seed CLI accepts', async () => {
      const problems: string[] = [];
      for (const w of ownWorkloads(objs(target))) {
        for (const c of appContainers(w)) {
          const who = `${label(w)}/${c.name}`;
          try {
            const cmd = await parseArgs(cli, c, who);
            problems.push(...checkValues(cmd, PROFILES).map((p) => `${who}: ${p}`));
          } catch (err) {
            problems.push(`${who}: ${(err as Error).message}`);
          }
        }
      }
      expect(problems).toEqual([]);
    });

    it('sets only variables of src/config/env.ts, and values loadConfig accepts', () => {
      const all = objs(target);
      const known = new Set(CONFIG_VARIABLES);
      const problems: string[] = [];
      const scaledBy = new Map<string, Set<string>>();
      for (const so of of<K8s & { spec: ScaledObjectSpec }>(all, 'ScaledObject')) {
        const names = new Set(
          so.spec.triggers.flatMap((t) =>
            Object.entries(t.metadata)
              .filter(([k]) => k.endsWith('FromEnv'))
              .map(([, v]) => v),
          ),
        );
        scaledBy.set(so.spec.scaleTargetRef.name, names);
      }
      for (const w of ownWorkloads(all)) {
        // variables that only KEDA reads (its triggers' *FromEnv) may sit on the scaled Deployment
        const kedaOnly = scaledBy.get(w.metadata.name) ?? new Set<string>();
        const s = w.spec.template.spec;
        for (const c of [...(s.initContainers ?? []), ...s.containers]) {
          const env = containerEnv(c, all);
          for (const n of env.names)
            if (!known.has(n) && !kedaOnly.has(n))
              problems.push(`${label(w)}/${c.name}: ${n} is not a variable of src/config/env.ts`);
          for (const ext of env.external)
            if (ext !== SECRET)
              problems.push(
                `${label(w)}/${c.name}: references Secret ${ext}, which is neither rendered nor the documented ${SECRET}`,
              );
          if (isAppImage(c.image)) {
            try {
              loadConfig(env.values);
            } catch (err) {
              problems.push(`${label(w)}/${c.name}: ${(err as Error).message}`);
            }
          }
        }
      }
      const config = of<DataObject>(all, 'ConfigMap').find((c) => baseName(c.metadata.name) === 'seed-data-config');
      expect(config, 'ConfigMap seed-data-config').toBeDefined();
      for (const k of Object.keys(config!.data ?? {}))
        if (!known.has(k)) problems.push(`seed-data-config: ${k} is not a variable of src/config/env.ts`);
      for (const k of [
        'WORKER_CONCURRENCY',
        'JOB_ATTEMPTS',
        'JOB_BACKOFF_MS',
        'DEMO_SESSION_TTL_SECONDS',
        'LOG_LEVEL',
      ]) {
        if (config!.data?.[k] === undefined) problems.push(`seed-data-config lacks ${k}`);
      }
      for (const s of of<DataObject>(all, 'Secret')) {
        for (const k of Object.keys(s.data ?? {}))
          if (!known.has(k)) problems.push(`${label(s)}: ${k} is not a variable of src/config/env.ts`);
      }
      expect(problems).toEqual([]);
    });

    it('probes /healthz and /readyz on PORT for the API and on WORKER_HEALTH_PORT for workers', async () => {
      const all = objs(target);
      const roles = new Set<string>();
      for (const w of ownWorkloads(all).filter((x) => x.kind === 'Deployment')) {
        const c = mainContainer(w);
        const cfg = containerConfig(c, all);
        const cmd = await parseArgs(cli, c, label(w));
        roles.add(cmd.command);
        const port = cmd.command === 'worker' ? cfg.WORKER_HEALTH_PORT : cfg.PORT;
        expect(['api', 'worker', 'start'], `${label(w)} runs ${cmd.command}`).toContain(cmd.command);
        expect(c.readinessProbe?.httpGet?.path, `${label(w)} readiness`).toBe(READYZ);
        expect(c.livenessProbe?.httpGet?.path, `${label(w)} liveness`).toBe(HEALTHZ);
        for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
          if (!probe?.httpGet) continue;
          expect(portNumber(c, probe.httpGet.port), `${label(w)} probe port`).toBe(port);
          expect([HEALTHZ, READYZ]).toContain(probe.httpGet.path);
        }
        expect(
          c.ports?.map((p) => p.containerPort),
          `${label(w)} ports`,
        ).toContain(port);
      }
      expect([...roles].sort()).toEqual(['api', 'worker']);
    });

    it('gives every pod more grace than WORKER_CLOSE_TIMEOUT_MS, and every container requests and limits', () => {
      const all = objs(target);
      for (const w of ownWorkloads(all)) {
        const cfg = containerConfig(mainContainer(w), all);
        const grace = w.spec.template.spec.terminationGracePeriodSeconds ?? 30;
        expect(grace * 1000, `${label(w)} terminationGracePeriodSeconds`).toBeGreaterThan(cfg.WORKER_CLOSE_TIMEOUT_MS);
        const s = w.spec.template.spec;
        for (const c of [...(s.initContainers ?? []), ...s.containers]) {
          for (const r of ['cpu', 'memory']) {
            const req = quantity(c.resources?.requests?.[r]);
            const lim = quantity(c.resources?.limits?.[r]);
            expect(req, `${label(w)}/${c.name} requests.${r}`).toBeGreaterThan(0);
            expect(lim, `${label(w)}/${c.name} limits.${r}`).toBeGreaterThanOrEqual(req);
          }
          expect(c.image, `${label(w)}/${c.name} image tag`).toMatch(/:[^/]+$|@sha256:/);
          expect(c.image).not.toMatch(/:latest$/);
        }
      }
    });

    it('runs every queue in exactly one worker Deployment', async () => {
      const all = objs(target);
      const served = new Map<string, string[]>();
      for (const w of ownWorkloads(all).filter((x) => x.kind === 'Deployment')) {
        const cmd = await parseArgs(cli, mainContainer(w), label(w));
        if (cmd.command !== 'worker') continue;
        for (const q of queuesOf(cmd)) served.set(q, [...(served.get(q) ?? []), w.metadata.name]);
      }
      expect([...served.keys()].sort()).toEqual([...QUEUE_NAMES].sort());
      for (const [q, by] of served) expect(by, `queue ${q}`).toHaveLength(1);
      expect(new Set([...served.values()].flat()).size, 'worker Deployments').toBeGreaterThanOrEqual(2);
    });

    it('has a PodDisruptionBudget per Deployment and one autoscaler per worker Deployment', async () => {
      const all = objs(target);
      const pdbs = of<K8s & { spec: { selector: { matchLabels: Record<string, string> } } }>(
        all,
        'PodDisruptionBudget',
      );
      const hpas = of<
        K8s & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas?: number; maxReplicas: number } }
      >(all, 'HorizontalPodAutoscaler');
      const sos = of<K8s & { spec: ScaledObjectSpec }>(all, 'ScaledObject');
      const deployments = ownWorkloads(all).filter((w) => w.kind === 'Deployment');
      for (const d of deployments) {
        const podLabels = d.spec.template.metadata?.labels ?? {};
        const selected = Object.entries(d.spec.selector?.matchLabels ?? {});
        expect(
          selected.every(([k, v]) => podLabels[k] === v),
          `${label(d)} selector matches its pods`,
        ).toBe(true);
        const mine = pdbs.filter((p) =>
          Object.entries(p.spec.selector.matchLabels).every(([k, v]) => podLabels[k] === v),
        );
        expect(mine.map(label), `${label(d)} PodDisruptionBudget`).toHaveLength(1);
        const cmd = await parseArgs(cli, mainContainer(d), label(d));
        const scalers = [
          ...hpas.filter(
            (h) => h.spec.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === d.metadata.name,
          ),
          ...sos.filter(
            (s) =>
              (s.spec.scaleTargetRef.kind ?? 'Deployment') === 'Deployment' &&
              s.spec.scaleTargetRef.name === d.metadata.name,
          ),
        ];
        expect(scalers.map(label), `${label(d)} autoscalers`).toHaveLength(cmd.command === 'worker' ? 1 : 0);
      }
      for (const h of hpas) {
        expect(find(all, 'Deployment', h.spec.scaleTargetRef.name), `${label(h)} target`).toBeDefined();
        expect(h.spec.minReplicas ?? 1).toBeLessThanOrEqual(h.spec.maxReplicas);
      }
      for (const p of pdbs)
        expect(
          deployments.some((d) =>
            Object.entries(p.spec.selector.matchLabels).every(([k, v]) => d.spec.template.metadata?.labels?.[k] === v),
          ),
          `${label(p)} selects pods`,
        ).toBe(true);
    });

    it('routes the Service and the Ingress to the API port', async () => {
      const all = objs(target);
      const services = of<
        K8s & {
          spec: {
            selector: Record<string, string>;
            ports: { name?: string; port: number; targetPort: number | string }[];
          };
        }
      >(all, 'Service');
      const api = ownWorkloads(all).filter((w) => w.kind === 'Deployment' && mainContainer(w).args?.[0] === 'api');
      expect(api).toHaveLength(1);
      const apiPod = api[0]!;
      const svc = services.find((s) => s.metadata.name === 'demo-session-api');
      expect(svc, 'Service demo-session-api').toBeDefined();
      expect(
        Object.entries(svc!.spec.selector).every(([k, v]) => apiPod.spec.template.metadata?.labels?.[k] === v),
      ).toBe(true);
      const c = mainContainer(apiPod);
      const cfg = containerConfig(c, all);
      for (const p of svc!.spec.ports) expect(portNumber(c, p.targetPort)).toBe(cfg.PORT);
      for (const ing of of<
        K8s & {
          spec: {
            rules: {
              http: { paths: { backend: { service: { name: string; port: { name?: string; number?: number } } } }[] };
            }[];
          };
        }
      >(all, 'Ingress')) {
        for (const r of ing.spec.rules) {
          for (const p of r.http.paths) {
            const target = services.find((s) => s.metadata.name === p.backend.service.name);
            expect(target, `${label(ing)} backend`).toBeDefined();
            const port = p.backend.service.port;
            expect(
              target!.spec.ports.some((sp) =>
                port.name !== undefined ? sp.name === port.name : sp.port === port.number,
              ),
              `${label(ing)} backend port`,
            ).toBe(true);
          }
        }
      }
    });

    it('resolves every ConfigMap and Secret reference (only the documented Secret may be external)', () => {
      const all = objs(target);
      const names = (kind: string) => new Set(of(all, kind).map((o) => o.metadata.name));
      const cms = names('ConfigMap');
      const secrets = names('Secret');
      const missing: string[] = [];
      for (const w of workloads(all)) {
        const s = w.spec.template.spec;
        for (const c of [...(s.initContainers ?? []), ...s.containers]) {
          for (const f of c.envFrom ?? []) {
            if (f.configMapRef && !cms.has(f.configMapRef.name))
              missing.push(`${label(w)}: ConfigMap ${f.configMapRef.name}`);
            if (f.secretRef && !secrets.has(f.secretRef.name) && f.secretRef.name !== SECRET)
              missing.push(`${label(w)}: Secret ${f.secretRef.name}`);
          }
          for (const e of c.env ?? []) {
            const ref = e.valueFrom?.secretKeyRef;
            if (ref && !secrets.has(ref.name) && ref.name !== SECRET) missing.push(`${label(w)}: Secret ${ref.name}`);
          }
        }
        for (const v of s.volumes ?? []) {
          if (v.configMap && !cms.has(v.configMap.name)) missing.push(`${label(w)}: ConfigMap ${v.configMap.name}`);
          for (const src of v.projected?.sources ?? [])
            if (src.configMap && !cms.has(src.configMap.name))
              missing.push(`${label(w)}: ConfigMap ${src.configMap.name}`);
        }
      }
      expect(missing).toEqual([]);
    });

    it('has the seed-data-loader Job of the runbook: init containers, limits, TTL, create --profile --json', async () => {
      const all = objs(target);
      const job = find<Workload>(all, 'Job', 'seed-data-loader');
      expect(job, 'Job seed-data-loader').toBeDefined();
      const j = job!;
      // `kubectl logs -n bakery-ia -l app=seed-data-loader` selects the Job's pods by this label
      expect(j.metadata.labels?.app).toBe('seed-data-loader');
      expect(j.spec.template.metadata?.labels?.app).toBe('seed-data-loader');
      expect(j.spec.ttlSecondsAfterFinished).toBe(86400);
      expect(j.spec.backoffLimit).toBeGreaterThanOrEqual(0);
      expect(j.spec.activeDeadlineSeconds).toBeGreaterThan(0);
      expect(['Never', 'OnFailure']).toContain(j.spec.template.spec.restartPolicy);
      const inits = j.spec.template.spec.initContainers ?? [];
      const script = (c: Container) => [...(c.command ?? []), ...(c.args ?? [])].join(' ');
      const waitsFor = (re: RegExp) => inits.findIndex((c) => re.test(script(c)));
      const pg = waitsFor(/pg_isready|nc -z\S* .*5432/);
      const redis = waitsFor(/redis-cli .*ping|nc -z\S* .*6379/);
      expect(pg, 'an init container waits for PostgreSQL').toBeGreaterThanOrEqual(0);
      expect(redis, 'an init container waits for Redis').toBeGreaterThanOrEqual(0);
      expect(containerEnv(inits[pg]!, all).names.has('DATABASE_URL')).toBe(true);
      expect(containerEnv(inits[redis]!, all).names.has('REDIS_URL')).toBe(true);
      const c = mainContainer(j);
      expect(quantity(c.resources?.limits?.cpu)).toBe(1);
      expect(c.resources?.limits?.cpu).toBe('1000m');
      expect(quantity(c.resources?.limits?.memory)).toBe(512 * 1024 ** 2);
      const cmd = await parseArgs(cli, c, label(j));
      expect(cmd.command).toBe('create');
      expect(cmd.options.get('profile')).toBe('professional');
      expect(cmd.options.get('json')).toBe(true);
      const data = cmd.options.get('data');
      expect(typeof data).toBe('string');
      const cfg = containerConfig(c, all);
      // workers load a session's profile from the path the creator used: it must be the same everywhere
      expect(path.posix.resolve(WORKDIR, data as string)).toBe(path.posix.resolve(WORKDIR, cfg.SEED_DATA_DIR));
      const grace = (j.spec.template.spec.terminationGracePeriodSeconds ?? 30) * 1000;
      expect(grace).toBeGreaterThan(cfg.WORKER_CLOSE_TIMEOUT_MS);
    });

    it('runs one demo-seed image in every pod', () => {
      const images = new Set(ownWorkloads(objs(target)).flatMap((w) => appContainers(w).map((c) => c.image)));
      expect(images.size).toBe(1);
    });
  });

  describe('k8s/overlays/dev', () => {
    it('creates the namespace and an example Secret with obviously fake values', () => {
      const all = objs('k8s/overlays/dev');
      expect(find(all, 'Namespace', NAMESPACE)).toBeDefined();
      const secret = of<DataObject>(all, 'Secret').find((s) => baseName(s.metadata.name) === SECRET);
      expect(secret, `Secret ${SECRET}`).toBeDefined();
      const data = secretData(secret!);
      expect(Object.keys(data).sort()).toEqual(['ADMIN_PASSWORD', 'ADMIN_USER', 'DATABASE_URL', 'REDIS_URL']);
      expect(data.ADMIN_PASSWORD).toMatch(/not-a-secret|example|dev-only|fake/);
      // the URLs name the dev overlay's own PostgreSQL and Redis Services
      const services = new Set(of(all, 'Service').map((s) => s.metadata.name));
      expect(services.has(new URL(data.DATABASE_URL!).hostname)).toBe(true);
      expect(services.has(new URL(data.REDIS_URL!).hostname)).toBe(true);
    });

    it('runs Redis with AOF and noeviction', () => {
      const redis = find<Workload>(objs('k8s/overlays/dev'), 'Deployment', 'redis');
      const args = redis!.spec.template.spec.containers[0]!.args!.join(' ');
      expect(args).toContain('--appendonly yes');
      expect(args).toContain('--maxmemory-policy noeviction');
    });
  });

  describe('k8s/overlays/prod', () => {
    const prod = () => objs('k8s/overlays/prod');

    it('runs more replicas than dev', () => {
      const replicas = (t: Target) =>
        Object.fromEntries(
          ownWorkloads(objs(t))
            .filter((w) => w.kind === 'Deployment')
            .map((w) => [w.metadata.name, w.spec.replicas ?? 1]),
        );
      const dev = replicas('k8s/overlays/dev');
      for (const [name, n] of Object.entries(replicas('k8s/overlays/prod')))
        expect(n, name).toBeGreaterThan(dev[name] ?? 0);
    });

    it('expects the Secret to exist and does not create the shared namespace', () => {
      expect(of(prod(), 'Secret')).toEqual([]);
      expect(of(prod(), 'Namespace')).toEqual([]);
      const docs = readFileSync(path.join(ROOT, 'docs', 'deployment.md'), 'utf8');
      expect(docs).toContain(SECRET);
      for (const k of ['DATABASE_URL', 'REDIS_URL', 'ADMIN_USER', 'ADMIN_PASSWORD', 'REDIS_ADDRESS'])
        expect(docs).toContain(k);
    });

    it('scales each worker Deployment with a KEDA ScaledObject on the wait lists of exactly its queues', async () => {
      const all = prod();
      const sos = of<K8s & { spec: ScaledObjectSpec }>(all, 'ScaledObject');
      const workers: Workload[] = [];
      for (const w of ownWorkloads(all).filter((x) => x.kind === 'Deployment'))
        if ((await parseArgs(cli, mainContainer(w), label(w))).command === 'worker') workers.push(w);
      expect(sos.map((s) => s.spec.scaleTargetRef.name).sort()).toEqual(workers.map((w) => w.metadata.name).sort());
      for (const so of sos) {
        const w = workers.find((x) => x.metadata.name === so.spec.scaleTargetRef.name)!;
        const c = mainContainer(w);
        const cfg = containerConfig(c, all);
        const keys = new QueueKeys(cfg.QUEUE_PREFIX);
        const want = queuesOf(await parseArgs(cli, c, label(w))).map((q) => keys.toKey(q, 'wait'));
        const redis = so.spec.triggers.filter((t) => t.type === 'redis');
        expect(redis.map((t) => t.metadata.listName).sort(), label(so)).toEqual(want.sort());
        for (const t of redis) {
          expect(t.metadata.listLength, `${label(so)} listLength`).toMatch(/^[1-9]\d*$/);
          const addr = t.metadata.addressFromEnv;
          expect(addr ?? t.metadata.address ?? t.metadata.host, `${label(so)} needs the Redis address`).toBeDefined();
          // KEDA resolves *FromEnv from the env of the scaled container
          if (addr)
            expect(
              c.env?.map((e) => e.name),
              `${label(so)}: ${addr} on ${label(w)}`,
            ).toContain(addr);
        }
        expect(so.spec.minReplicaCount ?? 0).toBeGreaterThanOrEqual(1);
        expect(so.spec.minReplicaCount ?? 0).toBeLessThanOrEqual(so.spec.maxReplicaCount ?? 100);
      }
    });
  });
});
