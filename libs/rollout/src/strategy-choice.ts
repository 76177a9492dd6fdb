import type { Bdf, Vm } from '@luo-fleet/topology';
import type { HostReason, PreservationSet } from '@luo-fleet/preservation';
import { DEFAULT_STRATEGY, STRATEGY_PHASES, type HandoverReason, type HostStrategy, type Strategy } from '@luo-fleet/handover';
import { resolveQuantity } from './limits';
import type { RolloutSpec } from './rollout';

/** One host as the strategy choice sees it: its plan, its VMs, and what is known of the host itself. */
export interface StrategyCandidate {
  hostId: string;
  /** The host's preservation set, judged with its VMs (`buildPreservationSet(..., { vms })`). */
  preservation: PreservationSet;
  /** The host's VMs, those the set judged. */
  vms: readonly Vm[];
  /** Host-level codes known when planning (design 4.1), and `HELD` for a host on hold. */
  hostReasons?: readonly (HostReason | 'HELD')[];
}

/** Why one strategy does not apply to a host: codes, and a line naming the VMs or devices behind them. */
export interface StrategyRejection {
  strategy: Strategy;
  reasons: HandoverReason[];
  detail: string;
}

export interface StrategyChoice {
  hostId: string;
  strategy: HostStrategy;
  /** Why each allowed strategy preferred to the chosen one did not apply (every allowed one, for `skip`). */
  rejected: StrategyRejection[];
  /** `skip`: the reasons of every rejection, each once, in order; else empty. */
  reasons: HandoverReason[];
  /** `live-update-restart`: the VMs stopped before the kexec and started after it. */
  restartVms: string[];
  /** `live-update` and `live-update-restart`: the devices that ride the kexec, in the set's order. */
  preservedDevices: Bdf[];
  /** `evacuate`: the VMs live-migrated away (all of them). */
  migrateVms: string[];
}

export interface StrategyPolicy {
  /** In order of preference, no repeats. */
  allowed: readonly Strategy[];
  /** VM restarts the rollout still allows. */
  restartsLeft: number;
  /**
   * Whether the host's VMs have somewhere to go (chooseEvacuationTargets). Without it, room is
   * assumed here and checked again, with reservations, when the host is admitted.
   */
  evacuationRoom?: (host: StrategyCandidate) => boolean;
}

/**
 * The first allowed strategy that applies to `host` (design 4.6), and why each one before it did not:
 * - `live-update`: every VM preservable, and every requested device too (the plan passes);
 * - `live-update-restart`: the VMs that are not preservable fit in the restart budget; the others
 *   ride the update with their devices (all preservable, since their VMs are); a device no VM
 *   holds is preserved when it passes and left behind when it does not (it blocks no VM, 4.5);
 * - `evacuate`: every VM can be live-migrated and has somewhere to go.
 * Both Live Updates need LUO and an answering host; an evacuation only the latter. A held host
 * gets none. `skip` when none applies, with every rejection's reasons.
 */
export function chooseStrategy(host: StrategyCandidate, policy: StrategyPolicy): StrategyChoice {
  const rejected: StrategyRejection[] = [];
  for (const strategy of policy.allowed) {
    const rejection = whyNot(strategy, host, policy);
    if (rejection === null) return choice(host, strategy, rejected);
    rejected.push(rejection);
  }
  return choice(host, 'skip', rejected);
}

/** What a rollout's spec says of strategies, resolved against the VMs of the hosts it selected. */
export interface StrategyPlan {
  choices: StrategyChoice[];
  /** VM restarts the choices use, at most `restartBudget`. */
  restarts: number;
  restartBudget: number;
}

/**
 * Chooses a strategy for each host, in the given order (the admission order): the restart budget
 * (`maxVmRestarts`, a percentage of every VM of these hosts) is used up by the hosts that come
 * first, and a host that would need more restarts than are left falls to its next strategy.
 */
export function chooseStrategies(
  hosts: readonly StrategyCandidate[],
  spec: Pick<RolloutSpec, 'strategies' | 'maxVmRestarts'>,
  evacuationRoom?: StrategyPolicy['evacuationRoom'],
): StrategyPlan {
  const allowed = spec.strategies ?? [DEFAULT_STRATEGY];
  const vms = hosts.reduce((n, h) => n + h.vms.length, 0);
  const restartBudget = resolveQuantity(spec.maxVmRestarts ?? '100%', vms);
  let restarts = 0;
  const choices = hosts.map((host) => {
    const c = chooseStrategy(host, { allowed, restartsLeft: restartBudget - restarts, evacuationRoom });
    restarts += c.restartVms.length;
    return c;
  });
  return { choices, restarts, restartBudget };
}

function whyNot(strategy: Strategy, host: StrategyCandidate, policy: StrategyPolicy): StrategyRejection | null {
  const held = host.hostReasons?.includes('HELD') === true;
  if (held) return { strategy, reasons: ['HELD'], detail: 'the host is on hold' };
  const hostReasons = (host.hostReasons ?? []).filter((r): r is HostReason => r !== 'HELD');
  switch (strategy) {
    case 'live-update': {
      if (hostReasons.length > 0) return { strategy, reasons: hostReasons, detail: `host: ${hostReasons.join(', ')}` };
      const reasons = new Set<HandoverReason>();
      const details: string[] = [];
      for (const vm of host.preservation.vms ?? []) {
        if (vm.preservable) continue;
        for (const r of vm.reasons) reasons.add(r);
        details.push(`${vm.id}: ${vm.reasons.join(', ')}`);
      }
      for (const d of host.preservation.devices) {
        if (d.preservable) continue;
        reasons.add(d.reasons[0]);
        details.push(`${d.bdf}: ${d.reasons.join(', ')}`);
      }
      return reasons.size === 0 ? null : { strategy, reasons: [...reasons], detail: details.join('; ') };
    }
    case 'live-update-restart': {
      if (hostReasons.length > 0) return { strategy, reasons: hostReasons, detail: `host: ${hostReasons.join(', ')}` };
      const restart = restartVmsOf(host);
      if (restart.length <= policy.restartsLeft) return null;
      return {
        strategy,
        reasons: ['RESTART_BUDGET'],
        detail: `${restart.length} VM restart${restart.length === 1 ? '' : 's'} needed, ${Math.max(0, policy.restartsLeft)} left in the rollout's budget`,
      };
    }
    case 'evacuate': {
      if (hostReasons.includes('HOST_UNREACHABLE')) return { strategy, reasons: ['HOST_UNREACHABLE'], detail: 'host: HOST_UNREACHABLE' };
      const pinned = host.vms.filter((vm) => !vm.migratable).map((vm) => vm.id);
      if (pinned.length > 0) return { strategy, reasons: ['VM_NOT_MIGRATABLE'], detail: `cannot be live-migrated: ${pinned.join(', ')}` };
      if (policy.evacuationRoom && !policy.evacuationRoom(host)) {
        return { strategy, reasons: ['NO_CAPACITY'], detail: `no room elsewhere for its ${host.vms.length} VMs` };
      }
      return null;
    }
  }
}

/** The VMs that cannot ride a Live Update, in the set's order. */
function restartVmsOf(host: StrategyCandidate): string[] {
  return (host.preservation.vms ?? []).filter((vm) => !vm.preservable).map((vm) => vm.id);
}

function choice(host: StrategyCandidate, strategy: HostStrategy, rejected: StrategyRejection[]): StrategyChoice {
  const restartVms = strategy === 'live-update-restart' ? restartVmsOf(host) : [];
  const stopped = new Set<Bdf>();
  for (const vm of host.preservation.vms ?? []) if (restartVms.includes(vm.id)) for (const bdf of vm.devices) stopped.add(bdf);
  const preserves = strategy !== 'skip' && STRATEGY_PHASES[strategy].preserves;
  return {
    hostId: host.hostId,
    strategy,
    rejected,
    reasons: strategy === 'skip' ? [...new Set(rejected.flatMap((r) => r.reasons))] : [],
    restartVms,
    preservedDevices: preserves ? host.preservation.devices.filter((d) => d.preservable && !stopped.has(d.bdf)).map((d) => d.bdf) : [],
    migrateVms: strategy === 'evacuate' ? host.vms.map((vm) => vm.id) : [],
  };
}
