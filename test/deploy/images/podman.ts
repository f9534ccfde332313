import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * podman for the image tests (test/deploy/image.test.ts): the images prepare-images.sh makes,
 * the build of the repository's Dockerfile, and containers run with runc on the host network.
 */

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const PREPARE = path.join(ROOT, 'test/deploy/images/prepare-images.sh');
export const IMAGE = 'localhost/demo-seed:test';
/** What the Dockerfile's FROM and docker-compose.yml name; prepare-images.sh makes them here. */
export const BASE_IMAGES = [
  'docker.io/library/node:20-bookworm-slim',
  'docker.io/library/postgres:15-alpine',
  'docker.io/library/redis:7-alpine',
];

const CACHE = process.env.DEMO_SEED_IMAGES_CACHE ?? '/var/cache/demo-seed-images';
/** podman-compose 1.3 from Debian trixie's package, unpacked there by prepare-images.sh. */
export const PODMAN_COMPOSE = path.join(CACHE, 'podman-compose/podman_compose.py');
/** podman as podman-compose 1.3 expects it, on podman 4.3 without systemd (see the script). */
export const PODMAN_COMPAT = path.join(ROOT, 'test/deploy/images/podman-compat.sh');

const AS_ROOT = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
const PODMAN = [...AS_ROOT, 'podman'];

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (never throws on a non-zero exit). */
export function run(cmd: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  return new Promise<Result>((resolve) => {
    execFile(
      cmd[0] as string,
      cmd.slice(1),
      { cwd: opts.cwd ?? ROOT, env: opts.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({
          code,
          stdout: String(stdout),
          stderr: String(stderr) + (err && code === 1 ? `\n${err.message}` : ''),
        });
      },
    );
  });
}

/** podman-compose 1.3 with podman-compat.sh, from the repository root, as root. */
export function podmanComposeCommand(args: string[]): string[] {
  return [...AS_ROOT, '/usr/bin/python3', PODMAN_COMPOSE, '--podman-path', PODMAN_COMPAT, ...args];
}

export function podman(args: string[], timeoutMs?: number): Promise<Result> {
  return run([...PODMAN, ...args], { timeoutMs });
}

/** `podman --runtime runc run ...`: the runtime that works in these machines' containers. */
export function podmanRun(args: string[], timeoutMs?: number): Promise<Result> {
  return podman(['--runtime', 'runc', 'run', ...args], timeoutMs);
}

function imagesExist(): boolean {
  const exists = (i: string) => spawnSync(PODMAN[0] as string, [...PODMAN.slice(1), 'image', 'exists', i]).status === 0;
  return existsSync(PODMAN_COMPOSE) && BASE_IMAGES.every(exists);
}

/**
 * Why the image tests cannot run here, or undefined when they can. Runs prepare-images.sh
 * (podman from Debian's packages, the base images) when an image is missing: .ci/prepare has
 * normally done it, and then this costs three `podman image exists`.
 */
export function imageTestsBlocked(): string | undefined {
  if (process.env.DEMO_SEED_SKIP_IMAGE_TESTS) return 'DEMO_SEED_SKIP_IMAGE_TESTS is set';
  if (imagesExist()) return undefined;
  const r = spawnSync('bash', [PREPARE], { cwd: ROOT, encoding: 'utf8', timeout: 15 * 60_000 });
  if (r.status === 0 && imagesExist()) return undefined;
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-4).join(' | ');
  return `podman or the base images are not available (test/deploy/images/prepare-images.sh: ${out || (r.error?.message ?? `exit ${r.status}`)})`;
}

let built: Promise<void> | undefined;
/**
 * Builds the repository's Dockerfile as a normal build would (docker format, to keep HEALTHCHECK),
 * once per test file run; podman's layer cache makes a rebuild with unchanged dependencies quick.
 */
export function buildImage(): Promise<void> {
  built ??= build();
  return built;
}

async function build(): Promise<void> {
  const r = await podman(
    ['build', '--isolation=chroot', '--network', 'host', '--format', 'docker', '-t', IMAGE, '.'],
    15 * 60_000,
  );
  if (r.code !== 0) throw new Error(`podman build failed (${r.code}):\n${(r.stdout + r.stderr).slice(-4000)}`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** `-e NAME=value` for each entry. */
export function envArgs(env: Record<string, string | undefined>): string[] {
  return Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : ['-e', `${k}=${v}`]));
}

export async function logsOf(container: string): Promise<string> {
  const r = await podman(['logs', '--tail', '60', container], 20_000);
  return `--- ${container} ---\n${r.stdout}${r.stderr}`.slice(-6000);
}

/** Polls `url` until it answers 2xx; the error names the last answer and the containers' logs. */
export async function waitForHttp(url: string, containers: string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const logs = await Promise.all(containers.map(logsOf));
  throw new Error(`${url} did not answer 2xx within ${timeoutMs} ms (last: ${last})\n${logs.join('\n')}`);
}
