/**
 * Helpers shared by the deployment tests (kubernetes.test.ts, compose.test.ts): what the CLI
 * accepts, what seed-data/ holds, and a strict type check of manifests against the Kubernetes
 * model types.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommanderError, type Command } from 'commander';
import ts from 'typescript';
import { isServiceName } from '../../src/catalog/services.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SEED_DATA = path.join(ROOT, 'seed-data');

// ---------------------------------------------------------------------------------------------
// seed-data/

export interface SeedFile {
  /** Path below seed-data/, with `/`. */
  readonly rel: string;
  readonly profile: string;
  /** Sub-folder of the profile (enterprise: parent, children, distribution), or null. */
  readonly folder: string | null;
  readonly name: string;
}

const visible = (dir: string) =>
  readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** Every file of every profile in seed-data/ as it is now (never a fixed list). */
export function seedDataFiles(root = SEED_DATA): SeedFile[] {
  const out: SeedFile[] = [];
  for (const p of visible(root)) {
    if (!p.isDirectory()) continue; // seed-data/README.md and the like are not profile data
    for (const e of visible(path.join(root, p.name))) {
      if (e.isDirectory()) {
        for (const f of visible(path.join(root, p.name, e.name))) {
          out.push({ rel: `${p.name}/${e.name}/${f.name}`, profile: p.name, folder: e.name, name: f.name });
        }
      } else {
        out.push({ rel: `${p.name}/${e.name}`, profile: p.name, folder: null, name: e.name });
      }
    }
  }
  return out;
}

export function seedProfiles(root = SEED_DATA): string[] {
  return [...new Set(seedDataFiles(root).map((f) => f.profile))];
}

// ---------------------------------------------------------------------------------------------
// The CLI

/** The commands the contract names (../shared/contract.md): the program must register each. */
const CONTRACT_COMMANDS: readonly string[] = [
  'migrate',
  'start',
  'worker',
  'api',
  'create',
  'destroy',
  'validate',
  'generate',
];

export interface ParsedCommand {
  readonly command: string;
  /** Options given on the command line, by their flag without the dashes (`services`, `no-session-queue`). */
  readonly options: ReadonlyMap<string, string | true>;
  readonly args: readonly string[];
}

export interface Cli {
  readonly commands: readonly string[];
  /** Parses `args` (without `demo-seed`) as the CLI would; throws with the CLI's complaint. */
  parse(args: readonly string[]): Promise<ParsedCommand>;
}

/**
 * The real `demo-seed` program (src/cli/main.ts), with every action replaced by a
 * recorder so that parsing runs commander's own checks (unknown and missing options,
 * argument counts) and nothing else. A command the contract names but the program
 * lacks fails here, by name.
 */
export async function loadCli(): Promise<Cli> {
  const { buildProgram } = (await import('../../src/cli/main.ts')) as { buildProgram: () => Command };
  const registered = buildProgram()
    .commands.map((c) => c.name())
    .filter((n) => n !== 'help');
  const missing = CONTRACT_COMMANDS.filter((n) => !registered.includes(n));
  if (missing.length > 0)
    throw new Error(`demo-seed does not register ${missing.join(', ')}, which the contract names`);
  return {
    commands: registered,
    parse: async (argv) => {
      const name = argv[0] ?? '';
      if (!registered.includes(name)) throw new Error(`unknown command '${name}'`);
      const program = buildProgram();
      const quiet = { writeOut: () => {}, writeErr: () => {} };
      program.configureOutput(quiet).exitOverride();
      let parsed: ParsedCommand | undefined;
      for (const cmd of program.commands) {
        cmd.configureOutput(quiet).exitOverride();
        cmd.action((...a: unknown[]) => {
          const c = a[a.length - 1] as Command;
          const options = new Map<string, string | true>();
          for (const o of c.options) {
            // only what the command line gave, keyed like the flag: `no-session-queue`, `services`
            if (c.getOptionValueSource(o.attributeName()) !== 'cli' || !o.long) continue;
            const v = c.getOptionValue(o.attributeName()) as unknown;
            options.set(o.long.slice(2), typeof v === 'string' ? v : true);
          }
          parsed = { command: c.name(), options, args: c.args };
        });
      }
      try {
        await program.parseAsync([...argv], { from: 'user' });
      } catch (err) {
        if (err instanceof CommanderError) throw new Error(`${name}: ${err.message}`);
        throw err;
      }
      if (!parsed) throw new Error(`${argv.join(' ')}: no command ran`);
      return parsed;
    },
  };
}

/** Problems with the values a command is given, beyond what the parser checks. */
export function checkValues(cmd: ParsedCommand, profiles: readonly string[]): string[] {
  const problems: string[] = [];
  const services = cmd.options.get('services');
  if (typeof services === 'string') {
    const names = services.split(',').map((s) => s.trim());
    const bad = names.filter((n) => !isServiceName(n));
    if (bad.length > 0 || names.length === 0) problems.push(`--services names unknown services: ${bad.join(', ')}`);
  }
  const profile = cmd.options.get('profile');
  if (
    typeof profile === 'string' &&
    (cmd.command === 'create' || cmd.command === 'validate') &&
    !profiles.includes(profile)
  ) {
    problems.push(`--profile ${profile} is not a profile in seed-data/ (${profiles.join(', ')})`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Strict check of manifests against the model types of kubernetes-models and
// @kubernetes-models/keda. Their run-time validate() checks types and required fields but lets
// unknown fields through (a misspelt `readinesProbe` would be silently dropped by the API
// server or refused by `kubectl apply --validate=strict`); TypeScript's excess property check
// on an object literal catches those.

/** apiVersion/kind -> [module, interface] */
export const MODEL_TYPES: Readonly<Record<string, readonly [string, string]>> = {
  'v1/Namespace': ['kubernetes-models/v1/Namespace', 'INamespace'],
  'v1/ConfigMap': ['kubernetes-models/v1/ConfigMap', 'IConfigMap'],
  'v1/Secret': ['kubernetes-models/v1/Secret', 'ISecret'],
  'v1/Service': ['kubernetes-models/v1/Service', 'IService'],
  'apps/v1/Deployment': ['kubernetes-models/apps/v1/Deployment', 'IDeployment'],
  'batch/v1/Job': ['kubernetes-models/batch/v1/Job', 'IJob'],
  'policy/v1/PodDisruptionBudget': ['kubernetes-models/policy/v1/PodDisruptionBudget', 'IPodDisruptionBudget'],
  'autoscaling/v2/HorizontalPodAutoscaler': [
    'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    'IHorizontalPodAutoscaler',
  ],
  'networking.k8s.io/v1/Ingress': ['kubernetes-models/networking.k8s.io/v1/Ingress', 'IIngress'],
  'keda.sh/v1alpha1/ScaledObject': ['@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject', 'IScaledObject'],
};

/**
 * Type-checks each object as a literal of its model interface; returns one message per
 * problem, prefixed with the object's label. Objects of kinds without a model are reported.
 */
export function typeCheckManifests(
  objects: readonly { label: string; obj: { apiVersion?: unknown; kind?: unknown } }[],
): string[] {
  const problems: string[] = [];
  const imports = new Map<string, string>();
  const decls: string[] = [];
  const labels: string[] = [];
  objects.forEach(({ label, obj }) => {
    const model = MODEL_TYPES[`${String(obj.apiVersion)}/${String(obj.kind)}`];
    if (!model) {
      problems.push(`${label}: no model for ${String(obj.apiVersion)} ${String(obj.kind)}`);
      return;
    }
    const alias = `T${imports.size}`;
    const local = imports.get(model.join('#')) ?? alias;
    if (!imports.has(model.join('#'))) imports.set(model.join('#'), local);
    labels.push(label);
    decls.push(`export const o${labels.length - 1}: ${local} = ${JSON.stringify(obj)};`);
  });
  const head = [...imports].map(([key, local]) => {
    const [mod, name] = key.split('#');
    return `import type { ${name} as ${local} } from '${mod}';`;
  });
  // Every declaration on one line, so a diagnostic's line names its object.
  const text = `${head.join('\n')}\n${decls.join('\n')}\n`;
  const file = path.join(ROOT, 'test', 'deploy', '__manifests_typecheck__.ts');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, create) =>
    path.resolve(name) === file
      ? ts.createSourceFile(name, text, lang, true)
      : getSourceFile(name, lang, onError, create);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === file || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (path.resolve(name) === file ? text : readFile(name));
  const program = ts.createProgram([file], options, host);
  const source = program.getSourceFile(file)!;
  for (const d of ts.getPreEmitDiagnostics(program, source)) {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const idx = line - head.length;
    const who = idx >= 0 && idx < labels.length ? labels[idx] : 'type check';
    problems.push(`${who}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
  }
  return problems;
}
