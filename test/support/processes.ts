import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const BIN = path.resolve('bin/demo-seed.js');

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code (or the signal) once the process has ended. */
  readonly exited: Promise<number | NodeJS.Signals>;
  stop(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals>;
}

/** Runs `demo-seed <args>` as a real process with the harness environment. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): ServiceProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal as NodeJS.Signals))),
  );
  return {
    child,
    output: () => out,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Starts `demo-seed worker` and waits until its workers are listening. */
export async function startWorkerProcess(
  env: NodeJS.ProcessEnv,
  args: string[] = [],
  timeoutMs = 20_000,
): Promise<ServiceProcess> {
  const p = runCli(['worker', ...args], { ...env, LOG_LEVEL: 'info' });
  const deadline = Date.now() + timeoutMs;
  while (!p.output().includes('workers started')) {
    if (p.child.exitCode !== null) throw new Error(`worker exited early:\n${p.output()}`);
    if (Date.now() > deadline) {
      await p.stop('SIGKILL');
      throw new Error(`worker did not start within ${timeoutMs} ms:\n${p.output()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return p;
}

/** Runs `demo-seed <args>` to completion. */
export async function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | NodeJS.Signals; output: string }> {
  const p = runCli(args, env);
  const code = await p.exited;
  return { code, output: p.output() };
}
