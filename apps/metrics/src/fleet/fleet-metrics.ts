import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import {
  HANDOVER_PHASES,
  HOST_OUTCOMES,
  ROLLBACK_STEPS,
  strategyLabelOf,
  VM_DISRUPTION_KINDS,
  type HostOutcome,
  type Strategy,
} from '@luo-fleet/handover';
import {
  BLACKOUT_BUCKETS_SECONDS,
  EXPORTER_METRICS as X,
  METRICS,
  PHASE_BUCKETS_SECONDS,
  SnapshotHistogram,
  type Histogram,
} from '@luo-fleet/telemetry';
import type { FleetSnapshot } from './fleet-snapshot';
import { ROLLOUT_HOST_STATES } from './host-states';

const EMPTY: Histogram = { buckets: new Map(), sumSeconds: 0, count: 0 };

/**
 * The exporter's prom-client registry. Values are replaced from a snapshot before each render:
 * the counters and histograms are Redis-held sums (see FleetStatsReader), not local observations.
 * While Redis is unreachable only `luo_fleet_redis_up 0` and process metrics are shown: stale
 * fleet numbers would look current.
 */
export class FleetMetrics {
  readonly registry = new Registry();

  private readonly handovers = this.counter(METRICS.handoversTotal, 'Hosts finished, by outcome and strategy', ['outcome', 'strategy']);
  private readonly validations = this.counter(METRICS.deviceValidationsTotal, 'Device verdicts by stage, result and first reason', [
    'stage',
    'result',
    'reason',
  ]);
  private readonly vmValidations = this.counter(METRICS.vmValidationsTotal, 'VM verdicts by stage, result and first reason', ['stage', 'result', 'reason']);
  private readonly vmDisruptions = this.counter(METRICS.vmDisruptionsTotal, 'VMs by what an update did to them (lost: ran before, runs nowhere after)', ['kind']);
  private readonly phaseDuration = new SnapshotHistogram({
    name: METRICS.phaseDurationSeconds,
    help: 'Duration of each handover phase and rollback step',
    labelNames: ['phase'],
    buckets: PHASE_BUCKETS_SECONDS,
  });
  private readonly blackout = new SnapshotHistogram({
    name: METRICS.blackoutSeconds,
    help: 'VM blackout of updated hosts: freeze start to finish end',
    buckets: BLACKOUT_BUCKETS_SECONDS,
  });
  private readonly inFlight = this.gauge(METRICS.hostsInFlight, 'Hosts of active rollouts queued or in a step', []);
  private readonly queueJobs = this.gauge(X.queueJobs, 'BullMQ jobs by queue and state', ['queue', 'state']);
  private readonly rolloutHosts = this.gauge(X.rolloutHosts, 'Hosts of each active rollout by state', ['rollout', 'state']);
  private readonly maxConcurrent = this.gauge(X.rolloutMaxConcurrent, 'Resolved max_concurrent of each active rollout', ['rollout']);
  private readonly maxFailures = this.gauge(X.rolloutMaxFailures, 'Resolved failure budget of each active rollout', ['rollout']);
  private readonly failures = this.gauge(X.rolloutFailures, 'Hosts failed or rolled back in each active rollout', ['rollout']);
  private readonly redisUp = this.gauge(X.redisUp, '1 when the last scrape read Redis, 0 otherwise', []);
  private readonly workers = this.gauge(X.workers, 'Workers connected to the handover queue', []);
  private readonly oldestStepAge = this.gauge(
    X.oldestStepAgeSeconds,
    'Per step: seconds since the last journal entry of the longest-waiting host in it (active rollouts)',
    ['phase'],
  );

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    for (const m of [this.phaseDuration, this.blackout]) this.registry.registerMetric(m);
  }

  /** Sets every fleet metric from `snapshot`, or clears them when Redis could not be read. */
  apply(snapshot: FleetSnapshot | undefined): void {
    for (const m of [this.handovers, this.validations, this.vmValidations, this.vmDisruptions, this.inFlight, this.queueJobs, this.rolloutHosts]) m.reset();
    for (const m of [this.maxConcurrent, this.maxFailures, this.failures, this.workers, this.oldestStepAge]) m.reset();
    this.redisUp.set(snapshot ? 1 : 0);
    if (!snapshot) {
      this.phaseDuration.setSeries([]);
      this.blackout.setSeries([]);
      return;
    }
    const { stats, active, queues } = snapshot;

    // Every outcome shows under its default strategy label even at 0, so that rates and alerts have a series.
    for (const outcome of HOST_OUTCOMES) this.handovers.inc({ outcome, strategy: strategyLabelOf({ outcome, reasons: [] }) }, 0);
    for (const h of stats.handovers.values()) {
      const strategy = strategyLabelOf({ outcome: h.outcome as HostOutcome, reasons: [], strategy: h.strategy as Strategy | undefined });
      this.handovers.inc({ outcome: h.outcome, strategy }, h.count);
    }
    for (const kind of new Set<string>([...VM_DISRUPTION_KINDS, ...stats.vmDisruptions.keys()])) {
      this.vmDisruptions.inc({ kind }, stats.vmDisruptions.get(kind) ?? 0);
    }
    for (const v of stats.validations.values()) {
      this.validations.inc({ stage: v.stage, result: v.result, reason: v.reason }, v.count);
    }
    for (const v of stats.vmValidations.values()) {
      this.vmValidations.inc({ stage: v.stage, result: v.result, reason: v.reason }, v.count);
    }
    const phases = new Set<string>([...HANDOVER_PHASES, ...ROLLBACK_STEPS, ...stats.phases.keys()]);
    this.phaseDuration.setSeries([...phases].map((phase) => ({ labels: { phase }, histogram: stats.phases.get(phase) ?? EMPTY })));
    this.blackout.setSeries([{ labels: {}, histogram: stats.blackout }]);

    this.inFlight.set(active.rollouts.reduce((acc, r) => acc + r.inFlight, 0));
    for (const r of active.rollouts) {
      for (const state of new Set([...ROLLOUT_HOST_STATES, ...r.hosts.keys()])) {
        this.rolloutHosts.set({ rollout: r.id, state }, r.hosts.get(state) ?? 0);
      }
      if (r.maxConcurrent !== undefined) this.maxConcurrent.set({ rollout: r.id }, r.maxConcurrent);
      if (r.maxFailures !== undefined) this.maxFailures.set({ rollout: r.id }, r.maxFailures);
      this.failures.set({ rollout: r.id }, r.failures);
    }
    for (const [phase, age] of active.oldestStepAge) this.oldestStepAge.set({ phase }, age);

    for (const [queue, counts] of queues.jobs) {
      for (const [state, n] of Object.entries(counts)) this.queueJobs.set({ queue, state }, n);
    }
    this.workers.set(queues.handoverWorkers);
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }
}
