import { Command, CommanderError } from 'commander';
import { CliFailure } from './api-errors';
import { registerDemo } from './commands/demo';
import { registerPlan } from './commands/plan';
import { registerRollout } from './commands/rollout';
import { registerSimulateHandover } from './commands/simulate-handover';
import { CliInputError } from './input-error';

// Bad input exits 2 with one line (design 4.3); anything else is a bug and says so.
const EXIT_BAD_INPUT = 2;

function fail(message: string): void {
  process.stderr.write(`luo-fleet: ${message.split('\n')[0]}\n`);
  process.exitCode = EXIT_BAD_INPUT;
}

export function buildProgram(): Command {
  const program = new Command()
    .name('luo-fleet')
    .description('Rolling Linux Live Updates across hypervisor fleets')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  registerPlan(program);
  registerDemo(program);
  registerSimulateHandover(program);
  registerRollout(program);
  // Subcommands of subcommands too (`rollout status`): errors come back here, one line each.
  const quiet = (cmd: Command): void => {
    cmd.exitOverride().configureOutput({ outputError: () => undefined });
    cmd.commands.forEach(quiet);
  };
  program.commands.forEach(quiet);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return; // --help, --version
      // No command given: commander has already printed the usage to stderr.
      if (err.code === 'commander.help') process.exitCode = EXIT_BAD_INPUT;
      else fail(err.message.replace(/^error: /, ''));
    } else if (err instanceof CliInputError) {
      fail(err.message);
    } else if (err instanceof CliFailure) {
      // API answers: 4xx exit 2 (the request was wrong), unreachable or 5xx exit 1.
      fail(err.message);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`luo-fleet: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  }
}

void main(process.argv);
