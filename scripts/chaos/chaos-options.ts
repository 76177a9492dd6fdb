import { resolve } from 'node:path';

/** What one chaos run does; every random choice derives from `seed`. */
export interface ChaosOptions {
  seed: number;
  hosts: number;
  workers: number;
  /** CI size: 200 hosts, one disruption of each kind, all of them required to happen. */
  ci: boolean;
  /** A low failure budget: the rollout must halt, and not before the budget is spent. */
  budgetTest: boolean;
  maxConcurrent: number;
  /** Multiplies the simulated hosts' real-world latencies (a handover is ~30 s at 1). */
  latencyScale: number;
  /** The build whose apps are run: LUO_FLEET_DIST, else the dist/ this script was built into. */
  dist: string;
}

export class ChaosUsageError extends Error {
  override name = 'ChaosUsageError';
}

const USAGE = 'usage: chaos [--seed N] [--hosts N] [--workers N] [--max-concurrent N] [--latency-scale X] [--ci] [--budget-test]';

export function parseChaosArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ChaosOptions {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--ci' || arg === '--budget-test') flags.add(arg);
    else if (['--seed', '--hosts', '--workers', '--max-concurrent', '--latency-scale'].includes(arg)) {
      const v = argv[++i];
      if (v === undefined) throw new ChaosUsageError(`${arg} needs a value\n${USAGE}`);
      values.set(arg, v);
    } else throw new ChaosUsageError(`unknown argument ${arg}\n${USAGE}`);
  }
  const num = (name: string, def: number, min: number, integer = true): number => {
    const raw = values.get(name);
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) throw new ChaosUsageError(`${name}: expected ${integer ? 'an integer' : 'a number'} >= ${min}, got ${raw}`);
    return n;
  };
  const ci = flags.has('--ci');
  const hosts = num('--hosts', ci ? 200 : 2000, 10);
  return {
    seed: num('--seed', Math.floor(Math.random() * 2 ** 31), 0),
    hosts,
    workers: num('--workers', ci ? 3 : 4, 2),
    ci,
    budgetTest: flags.has('--budget-test'),
    maxConcurrent: num('--max-concurrent', ci ? 40 : 100, 1),
    // 2,000 hosts with every strategy at 100 in flight take ~8 minutes at 0.2; the CI run 1 to 1.5 minutes at 0.1.
    latencyScale: num('--latency-scale', ci ? 0.1 : 0.2, 0, false),
    // This file is <dist>/scripts/chaos/chaos-options.js once built.
    dist: env.LUO_FLEET_DIST ?? resolve(__dirname, '../..'),
  };
}
