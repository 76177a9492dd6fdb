import { CliInputError } from '../input-error';

export interface DemoOptions {
  hosts: number;
  seed: number;
  /** Multiplies the simulated hosts' phase latencies (1 = a real hypervisor's order of magnitude). */
  latencyScale: number;
  keepRunning: boolean;
  json: boolean;
}

/** Short enough that the default rollout ends within a minute or so, long enough to see each host move through its phases. */
export const DEFAULT_LATENCY_SCALE = 0.15;
export const DEFAULT_HOSTS = 500;
export const DEFAULT_SEED = 42;
const MAX_HOSTS = 100_000;

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max) throw new CliInputError(`${flag}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

export function parseDemoOptions(flags: { hosts?: string; seed?: string; latencyScale?: string; keepRunning?: boolean; json?: boolean }): DemoOptions {
  const latencyScale = flags.latencyScale === undefined ? DEFAULT_LATENCY_SCALE : Number(flags.latencyScale);
  if (flags.latencyScale !== undefined && (flags.latencyScale.trim() === '' || !Number.isFinite(latencyScale) || latencyScale < 0 || latencyScale > 10)) {
    throw new CliInputError(`--latency-scale: expected a number from 0 to 10, got ${JSON.stringify(flags.latencyScale)}`);
  }
  return {
    hosts: flags.hosts === undefined ? DEFAULT_HOSTS : wholeNumber('--hosts', flags.hosts, 1, MAX_HOSTS),
    seed: flags.seed === undefined ? DEFAULT_SEED : wholeNumber('--seed', flags.seed, 0, 2 ** 31 - 1),
    latencyScale,
    keepRunning: flags.keepRunning === true,
    json: flags.json === true,
  };
}
