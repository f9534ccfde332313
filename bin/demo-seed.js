#!/usr/bin/env node
// The `demo-seed` CLI. A built image runs dist/ (see Dockerfile); a checkout runs
// the TypeScript sources through tsx, so `npx demo-seed` works right after `npm ci`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
// Tracing (src/telemetry/register.ts) starts before the service's modules load, so that
// pg and http are instrumented; off (nothing of OpenTelemetry loaded) without an OTLP endpoint.
const tracingWanted =
  (process.env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() !== 'true' &&
  Boolean(process.env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
let mod;
if (process.env.DEMO_SEED_USE_DIST === '1' && existsSync(built)) {
  if (tracingWanted) await (await import('../dist/src/telemetry/register.js')).startTracing();
  mod = await import(built);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  if (tracingWanted) await (await import('../src/telemetry/register.ts')).startTracing();
  mod = await import('../src/cli/main.ts');
}
await mod.main(process.argv);
