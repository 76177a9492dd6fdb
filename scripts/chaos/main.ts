/**
 * `npm run chaos -- [--seed N] [--hosts 2000] [--workers 4] [--ci] [--budget-test]`: rolls a
 * simulated fleet through real luo-fleet processes while killing workers, the coordinator's worker,
 * the planner and Redis, then checks the result against the hosts' own records. Exit 0 when every
 * check passed, 1 when one failed or the run broke, 2 for bad arguments.
 */
import { ChaosUsageError, parseChaosArgs } from './chaos-options';
import { formatReport } from './chaos-report';
import { runChaos } from './chaos-run';

async function main(): Promise<number> {
  let options;
  try {
    options = parseChaosArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof ChaosUsageError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  const report = await runChaos(options);
  console.log(formatReport(report));
  return report.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`chaos run broke: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
