import { Command, CommanderError } from 'commander';
import { describeError } from './errors.ts';
import { registerApi } from './commands/api.ts';
import { registerCreate } from './commands/create.ts';
import { registerDestroy } from './commands/destroy.ts';
import { registerGenerate } from './commands/generate.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerStart } from './commands/start.ts';
import { registerValidate } from './commands/validate.ts';
import { registerWorker } from './commands/worker.ts';

/** The `demo-seed` command line. */
export function buildProgram(): Command {
  const program = new Command('demo-seed')
    .description('demo sessions for the bakery platform: load a seed-data profile into the 11 service databases')
    .showHelpAfterError()
    .exitOverride();
  registerMigrate(program);
  registerStart(program);
  registerWorker(program);
  registerApi(program);
  registerCreate(program);
  registerDestroy(program);
  registerGenerate(program);
  registerValidate(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has printed its message already (help, usage error)
      process.exitCode = err.exitCode === 1 && err.code !== 'commander.help' ? 2 : err.exitCode;
      return;
    }
    const { message, exitCode } = describeError(err);
    process.stderr.write(`demo-seed: ${message}\n`);
    if (process.env.LOG_LEVEL === 'debug' && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = exitCode;
  }
}
