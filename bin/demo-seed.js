#!/usr/bin/env node
// The `demo-seed` CLI. A built image runs dist/ (see Dockerfile); a checkout runs
// the TypeScript sources through tsx, so `npx demo-seed` works right after `npm ci`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
let mod;
if (process.env.DEMO_SEED_USE_DIST === '1' && existsSync(built)) {
  mod = await import(built);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  mod = await import('../src/cli/main.ts');
}
await mod.main(process.argv);
