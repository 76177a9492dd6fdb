import type { Command } from 'commander';
import { CliFailure } from '../api-errors';
import { DEFAULT_HOSTS, DEFAULT_LATENCY_SCALE, DEFAULT_SEED, parseDemoOptions } from '../demo/demo-options';
import { DemoInfrastructureError } from '../demo/demo-processes';
import { runDemo } from '../demo/demo-run';

/** The demo's own machinery failed (a child died, the API refused): not the user's input. */
const EXIT_INFRASTRUCTURE = 1;

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'run a whole luo-fleet on this machine (Redis, planner, 2 workers, metrics) and roll a Live Update across a simulated fleet with injected faults',
    )
    .option('--hosts <n>', `simulated hosts (default ${DEFAULT_HOSTS})`)
    .option('--seed <n>', `seed of the simulated fleet and its faults (default ${DEFAULT_SEED})`)
    .option('--latency-scale <x>', `multiplies simulated phase latencies; 1 = real-hardware order (default ${DEFAULT_LATENCY_SCALE})`)
    .option('--keep-running', 'keep the planner (/docs) and metrics (/metrics) up after the rollout until Ctrl-C')
    .option('--json', 'print the final summary as one JSON object on stdout (progress goes to stderr)')
    .action(async (flags: { hosts?: string; seed?: string; latencyScale?: string; keepRunning?: boolean; json?: boolean }) => {
      const opts = parseDemoOptions(flags);
      try {
        await runDemo(opts);
      } catch (err) {
        // The demo's own planner refusing or failing is its machinery too, whatever the HTTP status.
        if (!(err instanceof DemoInfrastructureError || err instanceof CliFailure)) throw err;
        process.stderr.write(`luo-fleet demo: ${err instanceof CliFailure ? 'planner API: ' : ''}${err.message}\n`);
        process.exitCode = EXIT_INFRASTRUCTURE;
      }
    });
}
