import { Option, type Command } from 'commander';
import { ApiClient, DEFAULT_API } from '../api-client';
import { CliInputError } from '../input-error';
import { rolloutRequestOf, type CreateFlags } from './rollout-create';
import { creationSummary, hostsTable, listTable, statusSummary, type HostResult } from './rollout-output';
import { watchRollout } from './rollout-watch';

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

function positiveInt(flag: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < 1) throw new CliInputError(`${flag} must be a whole number >= 1, got ${JSON.stringify(text)}`);
    return n;
  };
}

/** `luo-fleet rollout ...`: maintenance windows through the planner's API. */
export function registerRollout(program: Command): void {
  const rollout = program
    .command('rollout')
    .description('create, follow and control rollouts (maintenance windows) through the planner API')
    .addOption(new Option('--api <url>', 'planner API base URL').env('LUO_FLEET_API').default(DEFAULT_API))
    .addOption(new Option('--token <token>', 'API bearer token').env('LUO_FLEET_TOKEN'));

  const client = (cmd: Command) => {
    const g = cmd.optsWithGlobals<{ api: string; token?: string }>();
    return new ApiClient({ api: g.api, token: g.token });
  };

  rollout
    .command('create')
    .description('plan and schedule a rollout of the selected hosts to a kernel')
    .option('--file <spec.json>', 'request body as JSON (flags given too override its fields)')
    .option('--selector <selector>', 'hosts to update, e.g. "zone=z1,rack in (r1,r2)"')
    .option('--kernel <release>', 'target kernel release')
    .option('--profile <name>', 'rule profile of the target kernel (default singleton-group)')
    .option('--strict-acs', 'also require ACS enabled on the whole path to the root bus')
    .option('--max-concurrent <n|p%>', 'hosts in flight at once (default 10%)')
    .option('--max-failures <n|p%>', 'failures before the rollout halts (default 5%)')
    .option('--canary <q,q,...>', 'canary batch sizes, e.g. 1,5,20% (default 1,5%)')
    .option('--require-approval', 'each batch after the first waits for `rollout approve`')
    .option('--domain-key <label>', 'failure-domain label, e.g. rack (with --domain-limit)')
    .option('--domain-limit <n>', 'hosts in flight per failure domain')
    .option('--start <time>', 'window start: ISO-8601 with a zone, or epoch ms (default now)')
    .option('--end <time>', 'window end (or --duration-minutes)')
    .option('--duration-minutes <m>', 'window length (default 240)')
    .option('--cutoff <time>', 'no host starts after this (default: 90% into the window)')
    .option('--seed <n>', 'seed of simulated fault draws')
    .option('--dry-run', 'show the plan and schedule; store nothing')
    .option('--idempotency-key <key>', 'a retry with the same key returns the first answer instead of creating again')
    .option('--json', 'print the API answer as JSON')
    .action(async (flags: CreateFlags & { idempotencyKey?: string; json?: boolean }, cmd: Command) => {
      const answer = await client(cmd).createRollout(rolloutRequestOf(flags), flags.idempotencyKey);
      print(flags.json ? json(answer) : creationSummary(answer));
    });

  rollout
    .command('list')
    .description('rollouts, newest first')
    .option('--limit <n>', 'how many', positiveInt('--limit'), 20)
    .option('--json', 'print JSON')
    .action(async (flags: { limit: number; json?: boolean }, cmd: Command) => {
      const rollouts = await client(cmd).listRollouts(flags.limit);
      print(flags.json ? json(rollouts) : listTable(rollouts));
    });

  rollout
    .command('status <id>')
    .description('status, hosts by state and limits of one rollout')
    .option('--json', 'print JSON')
    .action(async (id: string, flags: { json?: boolean }, cmd: Command) => {
      const view = await client(cmd).rollout(id);
      print(flags.json ? json(view) : statusSummary(view));
    });

  rollout
    .command('watch <id>')
    .description('follow a rollout until it finishes: exit 0 if it completed, 1 if it halted, was aborted or expired')
    .addOption(new Option('--interval <ms>', 'poll interval').argParser(positiveInt('--interval')).default(1000).hideHelp())
    .action(async (id: string, flags: { interval: number }, cmd: Command) => {
      process.exitCode = await watchRollout(client(cmd), id, { intervalMs: flags.interval });
    });

  rollout
    .command('hosts <id>')
    .description("the rollout's hosts with state and result")
    .option('--state <state>', 'only hosts in this state (pending, preserve, updated, failed, ...)')
    .option('--limit <n>', 'page size (1-1000)', positiveInt('--limit'), 100)
    .option('--cursor <cursor>', 'page after this one (printed at the end of a page)')
    .option('--all', 'every page')
    .option('--json', 'print JSON')
    .action(async (id: string, flags: { state?: string; limit: number; cursor?: string; all?: boolean; json?: boolean }, cmd: Command) => {
      const api = client(cmd);
      const hosts: HostResult[] = [];
      let cursor: string | null | undefined = flags.cursor;
      do {
        const page = await api.rolloutHostsPage(id, { state: flags.state, limit: flags.limit, cursor: cursor ?? undefined });
        hosts.push(...page.hosts);
        cursor = page.nextCursor;
      } while (flags.all && cursor !== null);
      if (flags.json) return print(json({ hosts, nextCursor: cursor }));
      print(hostsTable(hosts));
      if (cursor !== null) print(`more: --cursor ${cursor} (or --all)`);
    });

  for (const [action, what] of [
    ['pause', 'stop admitting hosts (those in flight finish)'],
    ['resume', 'admit hosts again after a pause'],
    ['approve', 'start the next canary batch'],
    ['abort', 'stop: hosts not started are cancelled, hosts before kexec roll back'],
  ] as const) {
    rollout
      .command(`${action} <id>`)
      .description(what)
      .option('--json', 'print JSON')
      .action(async (id: string, flags: { json?: boolean }, cmd: Command) => {
        const body = await client(cmd).rolloutAction(id, action);
        print(flags.json ? json(body) : `rollout ${body.id} ${body.status}`);
      });
  }
}
