import { HOST_OUTCOMES, type JournalEntry, type Strategy } from '@luo-fleet/handover';
import { takeVmCensus, type SimulatedHostState, type VmPlacements } from '@luo-fleet/simulated-host';
import type { FleetHost } from './chaos-fleet';
import { agrees, hostTruth, outcomeOfFaults, type HostTruth } from './host-truth';

/** Everything the checks look at, read after the rollout finished. */
export interface Evidence {
  fleet: FleetHost[];
  /** The rollout's host-state hash, and its per-host results. */
  states: Record<string, string>;
  results: Record<string, string>;
  journals: Map<string, JournalEntry[]>;
  /** The simulated hosts' own records (null: none). */
  records: Map<string, SimulatedHostState | null>;
  admission: { status: string; statusReason?: string; failures: number; maxFailures: number; maxConcurrent: number; finished: number };
  /** GET /v1/rollouts/:id from the (restarted) planner. */
  plannerView: { status: string; finished: number };
  /** luo_fleet_handovers_total by outcome, scraped from the metrics app. */
  metricsByOutcome: Record<string, number>;
  /** luo_fleet_vm_disruptions_total by kind, scraped from the metrics app. */
  vmsByKind: Record<string, number>;
  /** Where the simulated fleet's VMs run: VM -> host, and each host's own list. */
  placements: VmPlacements;
  maxInFlight: number;
  samples: number;
  /** Disruptions that must have happened (CI), and those done. */
  requiredDisruptions: string[];
  disruptions: Record<string, number>;
  /** The run expects the failure budget to be exceeded (--budget-test). */
  expectHalt: boolean;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  examples: string[];
}

const OUTCOMES = new Set<string>(HOST_OUTCOMES);
const EXAMPLES = 5;

function check(name: string, bad: string[], detail: string): CheckResult {
  return { name, ok: bad.length === 0, detail: bad.length === 0 ? detail : `${bad.length} problem(s); ${detail}`, examples: bad.slice(0, EXAMPLES) };
}

/**
 * Step intervals of a journal: each step_start until its step_end or, if its worker died, until the
 * next step or outcome entry (validation entries are written inside a step).
 */
function stepIntervals(entries: JournalEntry[]): { step: string; from: number; to: number }[] {
  const out: { step: string; from: number; to: number }[] = [];
  entries.forEach((e, i) => {
    if (e.type !== 'step_start') return;
    const next = entries.slice(i + 1).find((n) => n.type === 'step_start' || n.type === 'step_end' || n.type === 'outcome');
    out.push({ step: e.step, from: e.at, to: next ? next.at : Number.POSITIVE_INFINITY });
  });
  return out;
}

/** The kexec fence was written but the kexec step never ended: its worker died between the two. */
function kexecInterrupted(entries: JournalEntry[]): boolean {
  return entries.some((e) => e.type === 'kexec_fence') && !entries.some((e) => e.type === 'step_end' && e.step === 'kexec');
}

/** Problems with one journal's order: a step ending that is not the open one means two writers interleaved. */
function journalOrderProblems(host: string, entries: JournalEntry[]): string[] {
  const bad: string[] = [];
  let open: string | null = null;
  let last = 0;
  for (const e of entries) {
    if (e.at < last) bad.push(`${host}: journal time goes back (${e.type} at ${e.at} < ${last})`);
    last = Math.max(last, e.at);
    if (e.type === 'step_start') open = e.step;
    else if (e.type === 'step_end') {
      if (open !== e.step) bad.push(`${host}: step_end ${e.step} while ${open ?? 'no step'} was open`);
      open = null;
    }
  }
  return bad;
}

export function runChecks(ev: Evidence): { checks: CheckResult[]; truths: Record<HostTruth, number> } {
  const truths: Record<HostTruth, number> = { skipped: 0, untouched: 0, updated: 0, rolled_back: 0, failed: 0, broken: 0 };
  const complete: string[] = [];
  const kexecTwice: string[] = [];
  const overlap: string[] = [];
  const rolledBack: string[] = [];
  const updated: string[] = [];
  const agreement: string[] = [];
  const hostCounts: Record<string, number> = {};
  let hostFailures = 0;
  let rolledBackAtFence = 0;
  let unchecked = 0;
  let firstCancelAt = Number.POSITIVE_INFINITY;
  const failureTimes: number[] = [];

  for (const host of ev.fleet) {
    const id = host.id;
    const state = ev.states[id];
    const entries = ev.journals.get(id) ?? [];
    const outcomes = entries.filter((e): e is Extract<JournalEntry, { type: 'outcome' }> => e.type === 'outcome');
    const result = ev.results[id] ? (JSON.parse(ev.results[id]) as { outcome?: string; strategy?: Strategy }) : undefined;
    const strategy = outcomes.at(-1)?.strategy ?? result?.strategy ?? 'live-update';
    if (state === undefined) complete.push(`${id}: not in the rollout (lost)`);
    else if (!OUTCOMES.has(state)) complete.push(`${id}: stuck in ${state}`);
    else if (outcomes.length !== 1) complete.push(`${id}: ${outcomes.length} outcome entries in its journal`);
    else if (outcomes[0].outcome !== state || result?.outcome !== state) {
      complete.push(`${id}: state ${state}, journal ${outcomes[0].outcome}, result ${result?.outcome ?? 'none'}`);
    }
    const outcome = outcomes.at(-1);
    if (outcome?.outcome === 'cancelled') firstCancelAt = Math.min(firstCancelAt, outcome.at);
    if (outcome && (outcome.outcome === 'failed' || outcome.outcome === 'rolled_back')) failureTimes.push(outcome.at);

    const rec = ev.records.get(id) ?? null;
    if (rec && (rec.calls.kexec ?? 0) > 1) kexecTwice.push(`${id}: kexec called ${rec.calls.kexec} times`);

    overlap.push(...journalOrderProblems(id, entries));
    // Compacted to its outcome before the run could copy it: no steps left to check against.
    const compacted = rec !== null && entries.length === 1 && Object.keys(rec.calls).length > 0;
    if (compacted) unchecked++;
    if (rec && !compacted) {
      // Every call the host saw must fall inside a journaled interval of that step, and no step may
      // have reached the host more often than the journal started it: otherwise a second handover
      // (a stale worker) was acting on the host.
      const intervals = stepIntervals(entries);
      for (const h of rec.history) {
        if (!intervals.some((iv) => iv.step === h.step && iv.from <= h.at && h.at <= iv.to)) {
          overlap.push(`${id}: host-side ${h.step} at ${h.at} outside any journaled ${h.step} interval`);
        }
      }
      for (const [step, n] of Object.entries(rec.calls)) {
        const starts = intervals.filter((iv) => iv.step === step).length;
        if ((n ?? 0) > starts) overlap.push(`${id}: host saw ${step} ${n} times, journal started it ${starts} times`);
      }
    }

    const verdict = hostTruth(host, rec, strategy);
    truths[verdict.truth]++;
    // An untouched host ended without a step: cancelled, or skipped (a record made for evacuated VMs).
    const truthOutcome = verdict.truth === 'untouched' ? (state === 'skipped' ? 'skipped' : 'cancelled') : verdict.truth;
    hostCounts[truthOutcome] = (hostCounts[truthOutcome] ?? 0) + 1;
    if (verdict.truth === 'failed' || verdict.truth === 'rolled_back') hostFailures++;
    if (state === 'rolled_back' && verdict.truth !== 'rolled_back' && verdict.truth !== 'untouched') rolledBack.push(`${id}: ${verdict.problems.join('; ') || verdict.truth}`);
    if (state === 'updated' && verdict.truth !== 'updated') updated.push(`${id}: ${verdict.problems.join('; ') || verdict.truth}`);
    if (state !== undefined && !agrees(state, verdict.truth, outcome?.phase)) {
      agreement.push(`${id}: orchestrator says ${state}, host says ${verdict.truth}${verdict.problems.length ? ` (${verdict.problems.join('; ')})` : ''}`);
    } else if (rec && verdict.truth !== 'untouched' && outcomeOfFaults(rec, strategy) !== verdict.truth) {
      // A worker that died after the kexec fence but before the call reached the host: the next one
      // finds the old boot id and rolls back (by design: once fenced, kexec is never sent again).
      const kexecNeverArrived = verdict.truth === 'rolled_back' && (rec.calls.kexec ?? 0) === 0 && (compacted || kexecInterrupted(entries));
      if (kexecNeverArrived) rolledBackAtFence++;
      else agreement.push(`${id}: fault plan ${JSON.stringify(rec.faults)} should end ${outcomeOfFaults(rec, strategy)} under ${strategy}, host is ${verdict.truth}`);
    }
  }
  if (!ev.fleet.some((h) => h.eligible)) complete.push('no eligible host in the fleet');

  const checks: CheckResult[] = [];
  checks.push(check('every host one final outcome', complete, `${ev.fleet.length} hosts, each in exactly one outcome in state, result and journal`));
  checks.push(check('kexec at most once per host', kexecTwice, 'from the hosts\' own call counters'));
  checks.push(check('one handover per host at a time', overlap, `journals well nested; every host-side call inside its journaled step (${unchecked} journals compacted before they could be copied, not checked)`));
  checks.push(
    check(
      'in-flight within maxConcurrent',
      ev.maxInFlight > ev.admission.maxConcurrent || ev.samples === 0 ? [`max in flight ${ev.maxInFlight} > ${ev.admission.maxConcurrent} (${ev.samples} samples)`] : [],
      `max ${ev.maxInFlight} of ${ev.admission.maxConcurrent} over ${ev.samples} samples`,
    ),
  );
  checks.push(check('rolled_back hosts on old kernel, VMs running', rolledBack, `${truths.rolled_back} rolled back`));
  checks.push(check('updated hosts on target, devices retrieved', updated, `${truths.updated} updated`));
  checks.push(check('orchestrator outcome = host record = fault plan', agreement, `per host; ${rolledBackAtFence} rolled back because their worker died after the kexec fence, before the call`));

  const budget: string[] = [];
  const { status, failures, maxFailures } = ev.admission;
  if (failures !== hostFailures) budget.push(`rollout counts ${failures} failures, hosts show ${hostFailures}`);
  if (hostFailures > maxFailures && status !== 'halted') budget.push(`${hostFailures} failures > budget ${maxFailures} but status ${status}`);
  if (hostFailures <= maxFailures && status !== 'completed') budget.push(`${hostFailures} failures <= budget ${maxFailures} but status ${status}`);
  if (status === 'halted') {
    const before = failureTimes.filter((t) => t <= firstCancelAt).length;
    if (before <= maxFailures) budget.push(`halted with only ${before} failures before the first cancellation (budget ${maxFailures})`);
  } else if (Number.isFinite(firstCancelAt)) budget.push(`hosts cancelled although the rollout ${status}`);
  if (ev.expectHalt && status !== 'halted') budget.push(`budget test: expected a halt, got ${status}`);
  if (!ev.expectHalt && status === 'halted') budget.push('the failure budget was exceeded in a normal run: raise maxFailures or lower the fault rates');
  checks.push(check('failure budget halts when exceeded, not before', budget, `${hostFailures} failures, budget ${maxFailures}, status ${status}`));

  const metrics: string[] = [];
  for (const o of HOST_OUTCOMES) {
    const exported = ev.metricsByOutcome[o] ?? 0;
    if (exported !== (hostCounts[o] ?? 0)) metrics.push(`${o}: exported ${exported}, hosts show ${hostCounts[o] ?? 0}`);
  }
  checks.push(check('luo_fleet_handovers_total = host records', metrics, JSON.stringify(ev.metricsByOutcome)));

  const api: string[] = [];
  if (ev.plannerView.status !== status) api.push(`planner says ${ev.plannerView.status}, Redis ${status}`);
  if (ev.plannerView.finished !== ev.fleet.length) api.push(`planner counts ${ev.plannerView.finished} finished of ${ev.fleet.length}`);
  checks.push(check('planner API agrees after its restart', api, `status ${ev.plannerView.status}`));

  checks.push(vmConservation(ev));

  const missing = ev.requiredDisruptions.filter((d) => (ev.disruptions[d] ?? 0) === 0).map((d) => `${d} did not happen before the rollout finished`);
  checks.push(check('every planned disruption happened', missing, JSON.stringify(ev.disruptions)));
  return { checks, truths };
}

/**
 * Every VM that existed before runs exactly once after: on one host, named by that host's list
 * only, and running there. The only VMs allowed not to run are those the rollout counts `lost`
 * (docs/metrics.md): the VMs of a host whose Live Update failed after its kexec; and the exported
 * `lost` must be exactly their number, as the exported `migrated` must be the VMs running away
 * from their home host (each moves at most once: a host that took VMs is never evacuated after).
 */
function vmConservation(ev: Evidence): CheckResult {
  const census = takeVmCensus(ev.fleet, ev.placements, ev.records, Date.now());
  const bad = [...census.misplaced];
  for (const vm of census.idle) {
    const state = ev.states[vm.home];
    const fenced = (ev.journals.get(vm.home) ?? []).some((e) => e.type === 'kexec_fence');
    if (vm.at !== vm.home || state !== 'failed' || !fenced) bad.push(`${vm.name}: not running on ${vm.at} (home ${vm.home} ${state ?? 'unknown'})`);
  }
  const lost = ev.vmsByKind.lost ?? 0;
  if (lost !== census.idle.length) bad.push(`luo_fleet_vm_disruptions_total{kind="lost"} ${lost}, VMs not running ${census.idle.length}`);
  const migrated = ev.vmsByKind.migrated ?? 0;
  if (migrated !== census.moved) bad.push(`luo_fleet_vm_disruptions_total{kind="migrated"} ${migrated}, VMs running away from home ${census.moved}`);
  return check(
    'every VM runs exactly once (or is counted lost); migrated as counted',
    bad,
    `${census.vms} VMs, ${census.moved} migrated, ${census.idle.length} lost on hosts failed after kexec; exported ${JSON.stringify(ev.vmsByKind)}`,
  );
}
