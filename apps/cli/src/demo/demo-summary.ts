import { STRATEGY_REASONS } from '@luo-fleet/handover';
import type { ApiClient } from '../api-client';
import type { DemoVmCensus } from './demo-vm-census';
import { OUTCOMES, strategyLines, vmLine, type HostResult, type Outcome, type RolloutView, type RolloutVmCounts } from '../commands/rollout-output';

const EXAMPLES = 4;

/** How the summary names each outcome. */
const OUTCOME_LABEL: Record<Outcome, string> = {
  updated: 'updated',
  rolled_back: 'rolled back',
  failed: 'failed',
  skipped: 'skipped',
  cancelled: 'cancelled',
};

export interface DemoSummary {
  rolloutId: string;
  status: string;
  statusReason?: string;
  hosts: number;
  /** Hosts of each outcome (their ids), as GET /v1/rollouts/:id/hosts?state=<outcome> lists them. */
  outcomes: Record<Outcome, number>;
  hostIdsByOutcome: Record<Outcome, string[]>;
  /** Skipped hosts grouped by their reason (skipReason). */
  skippedByReason: Record<string, number>;
  /** Rolled-back and failed hosts grouped by the phase they ended at (their named reason). */
  byPhase: { rolled_back: Record<string, number>; failed: Record<string, number> };
  targetKernel: string;
  /** Hosts by the strategy the plan gave them, then by state (a rollout that allows strategies). */
  hostsByStrategy?: RolloutView['hostsByStrategy'];
  /** VMs by what the update did to them; `lost` must be 0. */
  vmDisruptions: RolloutView['vmDisruptions'];
  /** Where every VM runs after the rollout, by the simulated hosts' own records: each exactly once. */
  vmCensus: DemoVmCensus;
  /** The hosts' VMs by verdict as planned, rejected ones by first reason (design 4.5). */
  vms: RolloutVmCounts;
  /** From the POST /v1/rollouts call to the rollout's finish. */
  makespanSeconds: number;
  examples: { failed: HostExample[]; rolled_back: HostExample[] };
  docsUrl: string;
  metricsUrl: string;
  logFile: string;
  latencyScale: number;
  seed: number;
  /** Where the demo's data was: a key prefix of its own (deleted at the end unless it was the user's). */
  redis: { url: string; prefix: string };
}

export interface HostExample {
  hostId: string;
  phase?: string;
  error?: string;
  reasons?: string[];
}

function example(h: HostResult): HostExample {
  return { hostId: h.hostId, phase: h.phase, error: h.error, reasons: h.reasons?.length ? h.reasons : undefined };
}

/** Reads every finished host of the rollout through the API and condenses them for the summary. */
export async function collectOutcomes(client: ApiClient, view: RolloutView) {
  const byOutcome = {} as Record<Outcome, HostResult[]>;
  for (const outcome of OUTCOMES) byOutcome[outcome] = await client.allRolloutHosts(view.id, outcome);
  const skippedByReason: Record<string, number> = {};
  for (const h of byOutcome.skipped) {
    const reason = skipReason(h.reasons);
    skippedByReason[reason] = (skippedByReason[reason] ?? 0) + 1;
  }
  const byPhase = (o: 'rolled_back' | 'failed') => {
    const counts: Record<string, number> = {};
    for (const h of byOutcome[o]) counts[h.phase ?? 'unknown'] = (counts[h.phase ?? 'unknown'] ?? 0) + 1;
    return counts;
  };
  const pick = (o: Outcome) => varied([...byOutcome[o]].sort((a, b) => a.hostId.localeCompare(b.hostId))).map(example);
  return {
    outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, byOutcome[o].length])) as Record<Outcome, number>,
    hostIdsByOutcome: Object.fromEntries(OUTCOMES.map((o) => [o, byOutcome[o].map((h) => h.hostId).sort()])) as Record<Outcome, string[]>,
    skippedByReason,
    byPhase: { rolled_back: byPhase('rolled_back'), failed: byPhase('failed') },
    examples: { failed: pick('failed'), rolled_back: pick('rolled_back') },
  };
}

/**
 * A skipped host's reason as the summary groups it: the strategy codes when there are some (the
 * restart budget, VMs that cannot move, no room, a hold: why its last strategies did not apply),
 * else its first code.
 */
function skipReason(reasons: readonly string[] | undefined): string {
  const strategic = (reasons ?? []).filter((r) => (STRATEGY_REASONS as readonly string[]).includes(r));
  return strategic.length > 0 ? strategic.join(', ') : (reasons?.[0] ?? 'NO_REASON');
}

/** Up to EXAMPLES hosts, one per distinct phase first, so the examples show different faults. */
function varied(hosts: HostResult[]): HostResult[] {
  const seen = new Set<string | undefined>();
  const distinct = hosts.filter((h) => !seen.has(h.phase) && seen.add(h.phase));
  return [...distinct, ...hosts.filter((h) => !distinct.includes(h))].slice(0, EXAMPLES);
}

function exampleLine(h: HostExample): string {
  // Errors often start with their step's name already ("preserve: VMM hook failed ...").
  const error = h.phase && h.error?.startsWith(`${h.phase}: `) ? h.error.slice(h.phase.length + 2) : h.error;
  const detail = [h.phase ? `in ${h.phase}` : undefined, h.reasons ? h.reasons.join(',') : undefined, error].filter(Boolean).join(': ');
  return `    ${h.hostId}  ${detail}`;
}

/** What the hosts' own records say of the fleet's VMs after the rollout. */
function censusLine(c: DemoVmCensus): string {
  const where = `VMs after, by the hosts' own records: ${c.running} of ${c.vms} running, each on exactly one host (${c.moved} on another than their own)`;
  const broken = [c.idle > 0 ? `${c.idle} not running` : '', c.misplaced > 0 ? `${c.misplaced} on no host or on two` : ''].filter(Boolean);
  return broken.length === 0 ? where : `${where}; ${broken.join(', ')}, for example:`;
}

/** The human summary printed when the rollout has finished. */
export function summaryText(s: DemoSummary, keepRunning: boolean): string {
  const width = Math.max(...OUTCOMES.map((o) => OUTCOME_LABEL[o].length));
  const lines = [
    '',
    `Rollout ${s.rolloutId} ${s.status}${s.statusReason ? ` (${s.statusReason})` : ''} after ${s.makespanSeconds.toFixed(1)} s (API call to finish), ${s.hosts} simulated hosts:`,
  ];
  const others = s.hosts - s.outcomes.updated;
  lines.push(`  ${s.outcomes.updated} of ${s.hosts} hosts on ${s.targetKernel}; ${others === 0 ? 'no other' : `the other ${others}, each with its reason:`}`);
  const sub = (counts: Record<string, number>, prefix: string) =>
    Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .forEach(([why, n]) => lines.push(`  ${''.padEnd(width)}  ${String(n).padStart(5)}  ${prefix}${why}`));
  for (const o of OUTCOMES) {
    lines.push(`  ${OUTCOME_LABEL[o].padEnd(width)}  ${String(s.outcomes[o]).padStart(5)}`);
    if (o === 'skipped') sub(s.skippedByReason, '');
    if (o === 'rolled_back' || o === 'failed') sub(s.byPhase[o], 'at ');
  }
  const byStrategy = strategyLines(s);
  if (byStrategy.length > 0) lines.push('  hosts by strategy:', ...byStrategy.map((l) => `    ${l}`));
  lines.push(`  ${vmLine(s.vms, s.vms.byFirstReason, true)}`);
  const d = s.vmDisruptions;
  lines.push(`  VMs preserved ${d.preserved}, migrated ${d.migrated}, restarted ${d.restarted}, lost ${d.lost}`);
  lines.push(`  ${censusLine(s.vmCensus)}`, ...s.vmCensus.examples.map((e) => `    ${e}`));
  if (s.examples.failed.length > 0) lines.push('  failed, for example (after kexec: waiting for a person):', ...s.examples.failed.map(exampleLine));
  if (s.examples.rolled_back.length > 0) lines.push('  rolled back, for example (before kexec: back on the old kernel, VMs resumed):', ...s.examples.rolled_back.map(exampleLine));
  lines.push(
    '',
    `API docs (OpenAPI): ${s.docsUrl}`,
    `Prometheus metrics: ${s.metricsUrl}`,
    keepRunning ? 'These stay up until you press Ctrl-C (--keep-running).' : 'These stopped with the demo; run it with --keep-running to explore them afterwards.',
    `Logs of every process: ${s.logFile}`,
  );
  return lines.join('\n');
}
