import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../src/config/env.ts';
import { dropDatabases, migrate } from '../src/db/migrate.ts';
import { deleteKeysMatching } from '../src/redis/keys.ts';
import { createLogger } from '../src/shared/logger.ts';
import { createRuntime, type Runtime } from '../src/runtime/runtime.ts';
import { redisReady } from '../src/redis/connection.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'demo-seed.js');
const DIST_MAIN = path.resolve(import.meta.dirname, '..', 'dist', 'src', 'cli', 'main.js');
const STOP_GRACE_MS = 15_000;
const TAIL_CHARS = 16_000;

/** One `demo-seed api` or `demo-seed worker` process of the bench's fleet. */
export interface FleetProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** The last few thousand characters it printed (stdout and stderr). */
  tail(): string;
  stop(): Promise<void>;
}

/**
 * The bench's isolated world: its own databases (DB_NAME_PREFIX `bench<id>_`), its own
 * queue prefix and Redis keys, a temp folder, and the processes it starts. close()
 * removes all of it, and runs on Ctrl-C, SIGTERM or an uncaught error as well.
 */
export class World {
  private readonly fleet = new Set<FleetProcess>();
  private closing: Promise<void> | undefined;

  private constructor(
    readonly id: string,
    readonly env: NodeJS.ProcessEnv,
    readonly cfg: Config,
    readonly rt: Runtime,
    readonly tmp: string,
  ) {}

  /** `dist`: run the fleet from the compiled build (`npm run build`), as the Docker image does. */
  static async create(opts: { dist?: boolean } = {}): Promise<World> {
    const id = randomUUID().replace(/-/g, '').slice(0, 10);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DB_NAME_PREFIX: `bench${id}_`,
      QUEUE_PREFIX: `{bench-${id}}`,
      RATE_LIMIT_PER_MINUTE: '0',
      MAX_SESSIONS_PER_EMAIL: '0',
      // The bench is one client standing in for many prospects: each session's event stream is its own.
      SSE_MAX_PER_CLIENT: '1000',
      // The million-row load must not be failed by the reconciler on a busy machine.
      SESSION_LOAD_TIMEOUT_SECONDS: '900',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      NODE_ENV: 'production',
      DEMO_SEED_USE_DIST: opts.dist ? '1' : '0',
    };
    if (opts.dist && !existsSync(DIST_MAIN))
      throw new Error(`--dist: ${DIST_MAIN} is missing; run npm run build first`);
    const cfg = loadConfig(env);
    const tmp = path.join(os.tmpdir(), `demo-seed-bench-${id}`);
    await mkdir(tmp, { recursive: true });
    const log = createLogger('warn', 'stderr');
    const rt = createRuntime(cfg, log);
    const world = new World(id, env, cfg, rt, tmp);
    world.installSignalHandlers();
    try {
      await migrate(cfg, log);
      await redisReady(rt.redis);
    } catch (err) {
      await world.close();
      throw err;
    }
    return world;
  }

  /** Starts `demo-seed api` on a free port; resolves with its base URL once it listens. */
  async startApi(nodeArgs: string[] = []): Promise<{ proc: FleetProcess; url: string }> {
    const port = await freePort();
    const proc = await this.spawn('api', ['api'], { PORT: String(port) }, 'HTTP API listening', nodeArgs);
    return { proc, url: `http://127.0.0.1:${port}` };
  }

  /** Starts `demo-seed worker [args]` with its own health port; resolves once its workers run. */
  async startWorker(name: string, args: string[] = [], nodeArgs: string[] = []): Promise<FleetProcess> {
    const port = await freePort();
    return this.spawn(name, ['worker', ...args], { WORKER_HEALTH_PORT: String(port) }, 'workers started', nodeArgs);
  }

  private async spawn(
    name: string,
    args: string[],
    extraEnv: Record<string, string>,
    readyLine: string,
    nodeArgs: string[] = [],
    timeoutMs = 60_000,
  ): Promise<FleetProcess> {
    const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], {
      env: { ...this.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    let ready = false;
    let onReady: (() => void) | undefined;
    const take = (b: Buffer) => {
      tail = (tail + b.toString()).slice(-TAIL_CHARS);
      if (!ready && tail.includes(readyLine)) {
        ready = true;
        onReady?.();
      }
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const proc: FleetProcess = {
      name,
      child,
      pid: child.pid ?? -1,
      tail: () => tail,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
          await exited;
          clearTimeout(timer);
        }
        this.fleet.delete(proc);
      },
    };
    this.fleet.add(proc);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} did not print "${readyLine}" within ${timeoutMs} ms:\n${tail}`)),
        timeoutMs,
      );
      onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      if (ready) onReady();
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail}`));
      });
    }).catch(async (err: unknown) => {
      await proc.stop();
      throw err;
    });
    return proc;
  }

  /** Stops every process of the fleet (SIGTERM, then SIGKILL after a grace period). */
  async stopFleet(): Promise<void> {
    await Promise.all([...this.fleet].map((p) => p.stop()));
  }

  /** Removes everything the bench made: processes, Redis keys under its prefix, databases, temp files. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const problems: string[] = [];
      const step = async (what: string, fn: () => Promise<unknown>) => {
        const t0 = performance.now();
        await fn().catch((err: unknown) => problems.push(`${what}: ${(err as Error).message}`));
        if (process.env.BENCH_DEBUG)
          process.stderr.write(`bench cleanup: ${what} took ${Math.round(performance.now() - t0)} ms\n`);
      };
      await step('stop processes', () => this.stopFleet());
      await step('delete Redis keys', () => deleteKeysMatching(this.rt.redis, `${this.cfg.QUEUE_PREFIX}:*`));
      await step('close connections', () => this.rt.close());
      await step('drop databases', () => dropDatabases(this.cfg));
      await step('remove temp files', () => rm(this.tmp, { recursive: true, force: true }));
      if (problems.length > 0) process.stderr.write(`bench cleanup: ${problems.join('; ')}\n`);
    })();
    return this.closing;
  }

  private installSignalHandlers(): void {
    let bailing = false;
    const bail = (why: string, code: number) => {
      // Ctrl-C reaches npm, tsx and this process alike, and each passes it on: later signals must not kill the cleanup.
      if (bailing) return;
      bailing = true;
      process.stderr.write(
        `\nbench: ${why}; cleaning up (processes, databases ${this.cfg.DB_NAME_PREFIX}*, Redis keys ${this.cfg.QUEUE_PREFIX}:*, ${this.tmp})\n`,
      );
      void this.close().finally(() => process.exit(code));
    };
    process.on('SIGINT', () => bail('interrupted', 130));
    process.on('SIGTERM', () => bail('terminated', 143));
    process.on('SIGHUP', () => bail('hung up', 129));
    process.on('uncaughtException', (err) => bail(`uncaught error: ${err.stack ?? err.message}`, 1));
    process.on('unhandledRejection', (err) => bail(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`, 1));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
