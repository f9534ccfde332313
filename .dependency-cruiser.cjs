/**
 * The folder rule (README, "Code layout"), checked by `npm run check:deps` in CI.
 * Layers, from the bottom: shared → catalog, config → db, redis, seed → load, flows →
 * sessions → runtime, workers → api → cli. A folder imports only folders below it, with
 * the exceptions named in each rule's comment.
 */
/** `allowed`: folders (`db`), or single files (`runtime/context.ts`). */
const allowedPaths = (allowed) =>
  allowed.map((a) => (a.endsWith('.ts') ? `^src/${a.replace(/\./g, '\\.')}$` : `^src/${a}/`));
const forbidFrom = (name, from, allowed, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: `^src/${from}/` },
  to: { path: '^src/', pathNot: [`^src/${from}/`, ...allowedPaths(allowed)] },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles between modules.',
      from: {},
      to: { circular: true },
    },
    forbidFrom('shared-is-the-bottom', 'shared', [], 'shared/ (logger, paths, uuid) imports nothing of the project.'),
    forbidFrom('catalog', 'catalog', ['shared'], 'The catalog of services and tables stands on shared/ only.'),
    forbidFrom(
      'telemetry',
      'telemetry',
      ['shared'],
      'Tracing set-up, loaded before the service (bin/demo-seed.js): it hands its hooks to shared/telemetry.ts only.',
    ),
    forbidFrom(
      'config',
      'config',
      ['shared', 'catalog'],
      'The configuration knows the catalog (per-service URLs) and nothing else.',
    ),
    forbidFrom(
      'db',
      'db',
      ['shared', 'catalog', 'config', 'flows/jobs.ts'],
      "PostgreSQL access (pools, COPY, migrations, every SQL statement): no domain above it; the session record holds the job map's result types as JSON (flows/jobs.ts).",
    ),
    forbidFrom(
      'redis',
      'redis',
      ['shared', 'catalog', 'config'],
      'Redis access (connections, ID maps, keys): no domain above it.',
    ),
    forbidFrom(
      'seed',
      'seed',
      ['shared', 'catalog', 'config', 'seed-tools/validate'],
      'Seed-data profiles as the run time reads them; the profile cache validates each profile once (seed-tools/validate).',
    ),
    forbidFrom(
      'seed-tools',
      'seed-tools',
      ['shared', 'catalog', 'config', 'seed'],
      'The generator and the validator: seed files in, reports and files out.',
    ),
    forbidFrom(
      'load',
      'load',
      ['shared', 'catalog', 'config', 'seed'],
      'Record to COPY text: pure functions over a profile, no I/O of their own.',
    ),
    forbidFrom(
      'flows',
      'flows',
      ['shared', 'catalog', 'config', 'redis', 'seed'],
      'BullMQ: the job map, flow shapes, queues and key names.',
    ),
    forbidFrom(
      'sessions',
      'sessions',
      ['shared', 'catalog', 'config', 'db', 'redis', 'seed', 'load', 'flows', 'runtime/context.ts'],
      'The session domain: create, view, destroy, the per-email cap; it uses the process context, never a worker or the API.',
    ),
    forbidFrom(
      'runtime',
      'runtime',
      ['shared', 'catalog', 'config', 'db', 'redis', 'seed', 'load', 'flows', 'sessions'],
      'The wiring of a process (runtime.ts) and the context handlers get (context.ts), shared by the CLI and the API.',
    ),
    forbidFrom(
      'workers',
      'workers',
      ['shared', 'catalog', 'config', 'db', 'redis', 'seed', 'load', 'flows', 'sessions', 'runtime'],
      'Job handlers and the worker runner: never the API or the CLI.',
    ),
    forbidFrom(
      'api',
      'api',
      ['shared', 'catalog', 'config', 'db', 'redis', 'seed', 'flows', 'sessions', 'runtime'],
      'HTTP: routes call the session domain; the API runs no job handler and no seed tool.',
    ),
    {
      name: 'cli-is-the-top',
      severity: 'error',
      comment: 'Only the entry point and the CLI itself import the CLI.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'seed-tools-generate-only-from-cli',
      severity: 'error',
      comment: 'The generator is a tool: only the CLI runs it.',
      from: { path: '^src/', pathNot: ['^src/cli/', '^src/seed-tools/generate/'] },
      to: { path: '^src/seed-tools/generate/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
