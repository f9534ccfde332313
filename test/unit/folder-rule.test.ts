import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The folder rule (.dependency-cruiser.cjs, README "Code layout"): the project's own
 * src/ passes it, and a tree that breaks it fails, naming the rule and the import.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const DEPCRUISE = path.join(ROOT, 'node_modules', '.bin', 'depcruise');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');

function cruise(cwd: string) {
  return spawnSync(DEPCRUISE, ['src', '--config', CONFIG], { cwd, encoding: 'utf8' });
}

describe('the folder rule', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'folder-rule-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds for src/', () => {
    const out = execFileSync(DEPCRUISE, ['src', '--config', CONFIG], { cwd: ROOT, encoding: 'utf8' });
    expect(out).toMatch(/no dependency violations found/);
  });

  it('fails a tree where db/ imports the API, or the API imports a worker', () => {
    const file = (rel: string, text: string) => {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), text);
    };
    file(
      'tsconfig.json',
      JSON.stringify({ compilerOptions: { module: 'nodenext', allowImportingTsExtensions: true, noEmit: true } }),
    );
    file('src/api/app.ts', "import { handle } from '../workers/job.ts';\nexport const app = handle;\n");
    file('src/workers/job.ts', 'export const handle = 1;\n');
    file('src/db/pools.ts', "import { app } from '../api/app.ts';\nexport const pools = app;\n");
    const res = cruise(dir);
    expect(res.status).not.toBe(0);
    expect(res.stdout).toMatch(/error db: src\/db\/pools\.ts → src\/api\/app\.ts/);
    expect(res.stdout).toMatch(/error api: src\/api\/app\.ts → src\/workers\/job\.ts/);
  });
});
