import type { HostResult, RolloutView, RolloutVmCounts } from '@luo-fleet/store';
import type { RolloutPlanSummary } from '../../../planner/src/rollouts/rollout-creation';
import type { Rollout } from '@luo-fleet/rollout';

/** What the CLI reads off a rollout; type-only imports, so the CLI loads no Redis code. */
export type { HostResult, RolloutPlanSummary, RolloutView, RolloutVmCounts };

/** Host outcomes of design 4.2, in the order the CLI shows them. */
export const OUTCOMES = ['updated', 'rolled_back', 'failed', 'skipped', 'cancelled'] as const;
export type Outcome = (typeof OUTCOMES)[number];
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function counts(byKey: Record<string, number>): string {
  const parts = Object.entries(byKey).map(([k, n]) => `${k} ${n}`);
  return parts.length ? parts.join(', ') : 'none';
}

/**
 * `VMs 12: 5 can ride the Live Update, 7 cannot (MEMORY_HUGETLB 4, IOAS_MUTABLE 3)`. `byReason`
 * counts a VM under each reason (plans) or its first (rollout status, as the metric counts them).
 */
export function vmLine(vms: { total: number; preservable: number; rejected: number }, byReason: Record<string, number | undefined>, firstOnly: boolean): string {
  if (vms.total === 0) return 'VMs: none recorded';
  const reasons = Object.entries(byReason).filter((e): e is [string, number] => (e[1] ?? 0) > 0);
  const why = reasons.length ? ` (${firstOnly ? 'first reasons: ' : ''}${counts(Object.fromEntries(reasons))})` : '';
  return `VMs ${vms.total}: ${vms.preservable} can ride the Live Update, ${vms.rejected} cannot${why}`;
}

/** `VMs so far: preserved 40, migrated 12, restarted 3, lost 0`. */
export function disruptionLine(d: RolloutView['vmDisruptions']): string {
  return `VMs so far: preserved ${d.preserved}, migrated ${d.migrated}, restarted ${d.restarted}, lost ${d.lost}`;
}

function limitsLine(r: Pick<Rollout, 'limits' | 'spec'>): string {
  const l = r.limits;
  const domain = r.spec.maxPerFailureDomain ? `, at most ${r.spec.maxPerFailureDomain.limit} per ${r.spec.maxPerFailureDomain.key}` : '';
  const approval = r.spec.canary.requireApproval ? ' (each after the first waits for approval)' : '';
  return `limits: ${l.maxConcurrent} at a time${domain}; halts after ${l.maxFailures} failure${l.maxFailures === 1 ? '' : 's'}; batches ${l.batches.join(', ') || '(none)'}${approval}`;
}

function windowLine(r: Pick<Rollout, 'spec'>): string {
  const w = r.spec.window;
  return `window: ${iso(w.startAt)} -> ${iso(w.endAt)}, no host starts after ${iso(w.cutoffAt)}`;
}

/** `rollout create`: the id and what the plan found. */
export function creationSummary(answer: { dryRun: boolean; rollout: Rollout; plan: RolloutPlanSummary }): string {
  const { rollout: r, plan } = answer;
  const lines = [
    answer.dryRun ? `dry run: nothing stored (rollout ${r.id} was not created)` : `rollout ${r.id} ${r.status}`,
    `  kernel ${r.spec.targetKernel}, profile ${r.spec.profile}${r.spec.strictAcs ? ' (strict ACS)' : ''}, selector ${r.spec.selector}`,
    `  hosts ${plan.hosts}: ${plan.eligible} to update, ${plan.skipped} skipped${plan.skipped ? ` (${counts(plan.skippedByReason)})` : ''}`,
    `  ${vmLine(plan.vms, plan.vms.byReason, false)}`,
    ...forecastLines(plan.strategies).map((l) => `  ${l}`),
    `  ${limitsLine(r)}`,
    `  ${windowLine(r)}`,
  ];
  const s = plan.schedule;
  const approvals = s.batches.filter((b) => b.waitsForApproval).length;
  lines.push(
    `  schedule: ${s.batches.length} batch${s.batches.length === 1 ? '' : 'es'} (${s.batches.map((b) => b.hosts).join(', ')}), about ${duration(s.makespanSeconds)} at one minute per handover` +
      `${approvals ? `, plus ${approvals} approval wait${approvals === 1 ? '' : 's'}` : ''}` +
      `${s.hostsPastCutoff ? `; ${s.hostsPastCutoff} host${s.hostsPastCutoff === 1 ? '' : 's'} would miss the cutoff` : ''}`,
  );
  return lines.join('\n');
}

/**
 * What a plan forecasts of its strategies (none for a rollout that allows only the Live Update):
 * `strategies: live-update 2 hosts (4 VMs), evacuate 1 (2 VMs)`, the VMs by what is planned for
 * them, and `passed over: live-update for LUO_DISABLED 1; ...`: why hosts did not get a strategy.
 */
export function forecastLines(f: RolloutPlanSummary['strategies']): string[] {
  if (!f) return [];
  const by = STRATEGY_ORDER.filter((s) => f.byStrategy[s]).map((s, i) => `${s} ${f.byStrategy[s]!.hosts}${i === 0 ? ' hosts' : ''} (${f.byStrategy[s]!.vms} VMs)`);
  const d = f.disruption;
  const passed = STRATEGY_ORDER.filter((s) => s !== 'skip' && f.passedOver[s]).map((s) => `${s} for ${counts(f.passedOver[s as keyof typeof f.passedOver]!)}`);
  return [
    `strategies: ${by.join(', ') || 'none'}`,
    `VMs planned: preserved ${d.preserved}, migrated ${d.migrated}, restarted ${d.restarted} (restart budget ${f.restarts.budget})`,
    ...(passed.length ? [`passed over: ${passed.join('; ')}`] : []),
  ];
}

/** Strategies in the order the CLI shows them (the rollout's preference, then skip). */
const STRATEGY_ORDER = ['live-update', 'live-update-restart', 'evacuate', 'skip'] as const;

/**
 * One line per strategy the plan gave hosts: `evacuate 30: updated 12, drain 2, waiting_capacity 16`.
 * None for a rollout that allows only the Live Update.
 */
export function strategyLines(v: Pick<RolloutView, 'hostsByStrategy'>): string[] {
  const by = v.hostsByStrategy;
  if (!by) return [];
  const width = Math.max(...STRATEGY_ORDER.filter((s) => by[s]).map((s) => s.length));
  return STRATEGY_ORDER.filter((s) => by[s]).map((s) => {
    const states = by[s]!;
    const total = Object.values(states).reduce((a, b) => a + b, 0);
    return `${s.padEnd(width)} ${String(total).padStart(5)}: ${counts(states)}`;
  });
}

/** `rollout status`: status, hosts by state (and by strategy), limits. */
export function statusSummary(v: RolloutView): string {
  const reason = v.statusReason ? ` (${v.statusReason})` : '';
  const byStrategy = strategyLines(v);
  return [
    `rollout ${v.id} ${v.status}${reason}`,
    `  kernel ${v.spec.targetKernel}, profile ${v.spec.profile}, selector ${v.spec.selector}; created ${iso(v.createdAt)} by ${v.createdBy}`,
    `  hosts ${v.hostCount}: ${counts(v.hostsByState)}`,
    ...(byStrategy.length ? ['  by strategy:', ...byStrategy.map((l) => `    ${l}`)] : []),
    `  finished ${v.finished}/${v.hostCount}, in flight ${v.inflight}, failures ${v.failures}/${v.limits.maxFailures}, batch ${Math.min(v.batch + 1, v.limits.batches.length)} of ${v.limits.batches.length}`,
    `  ${vmLine(v.vms, v.vms.byFirstReason, true)}`,
    `  ${disruptionLine(v.vmDisruptions)}`,
    `  ${limitsLine(v)}`,
    `  ${windowLine(v)}${v.finishedAt ? `; finished ${iso(v.finishedAt)}` : ''}`,
  ].join('\n');
}

export function listTable(views: RolloutView[]): string {
  if (views.length === 0) return 'no rollouts';
  const rows = [['ID', 'STATUS', 'CREATED', 'KERNEL', 'HOSTS', 'FINISHED', 'SELECTOR']];
  for (const v of views) rows.push([v.id, v.status, iso(v.createdAt), v.spec.targetKernel, String(v.hostCount), String(v.finished), v.spec.selector]);
  return table(rows);
}

export function hostsTable(hosts: HostResult[]): string {
  const rows = [['HOST', 'STATE', 'PHASE', 'REASONS', 'ERROR']];
  for (const h of hosts) rows.push([h.hostId, h.state, h.phase ?? '', (h.reasons ?? []).join(','), h.error ?? '']);
  return table(rows);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n');
}

/** Hosts of a rollout by outcome and in flight, for `watch`. */
export interface Progress {
  total: number;
  inflight: number;
  byOutcome: Record<Outcome, number>;
}

export function progressOf(v: RolloutView): Progress {
  const byOutcome = Object.fromEntries(OUTCOMES.map((o) => [o, v.hostsByState[o] ?? 0])) as Progress['byOutcome'];
  return { total: v.hostCount, inflight: v.inflight, byOutcome };
}

export function progressLine(v: RolloutView): string {
  const p = progressOf(v);
  const byStrategy = strategyLines(v).map((l) => l.replace(/\s+/g, ' '));
  return `${v.status}: ${OUTCOMES.map((o) => `${o} ${p.byOutcome[o]}`).join(', ')}, in flight ${p.inflight} (of ${p.total})${byStrategy.length ? `; ${byStrategy.join('; ')}` : ''}`;
}
