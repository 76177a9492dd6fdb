import { logNormal, seededRandom, type SeedPart } from './seeded-random';
import type { SimulatedStep } from './simulated-host-state';

export interface StepLatency {
  medianMs: number;
  p99Ms: number;
}

/**
 * How long the simulated host takes per step. At scale 1 the numbers are a real hypervisor's order
 * of magnitude (preserving guest memory and VFIO fds dominates; a kexec boot takes tens of
 * seconds); demos use 0.01 to 0.1; 0 means no sleeping at all (benchmarks of the orchestrator).
 */
export interface LatencyModel {
  scale: number;
  steps: Record<SimulatedStep, StepLatency>;
  /** From the reboot syscall to the new kernel answering. */
  bootDelay: StepLatency;
}

export const DEFAULT_LATENCY: LatencyModel = Object.freeze({
  scale: 1,
  steps: Object.freeze({
    identity: { medianMs: 20, p99Ms: 200 },
    topology: { medianMs: 100, p99Ms: 800 },
    kexec_load: { medianMs: 1_500, p99Ms: 6_000 },
    preserve: { medianMs: 5_000, p99Ms: 30_000 },
    freeze: { medianMs: 300, p99Ms: 2_000 },
    kexec: { medianMs: 100, p99Ms: 500 },
    incoming: { medianMs: 20, p99Ms: 200 },
    retrieve: { medianMs: 2_000, p99Ms: 10_000 },
    finish: { medianMs: 500, p99Ms: 3_000 },
    thaw: { medianMs: 300, p99Ms: 2_000 },
    unpreserve: { medianMs: 1_000, p99Ms: 5_000 },
    kexec_unload: { medianMs: 200, p99Ms: 1_000 },
    // A clean guest shutdown or boot; a live migration of every VM dominates an evacuation.
    stop_vms: { medianMs: 3_000, p99Ms: 20_000 },
    start_vms: { medianMs: 5_000, p99Ms: 30_000 },
    drain: { medianMs: 20_000, p99Ms: 120_000 },
    undrain: { medianMs: 100, p99Ms: 500 },
  }),
  bootDelay: Object.freeze({ medianMs: 20_000, p99Ms: 60_000 }),
});

export interface LatencyOverrides {
  scale?: number;
  steps?: Partial<Record<SimulatedStep, StepLatency>>;
  bootDelay?: StepLatency;
}

export function latencyModel(over: LatencyOverrides = {}): LatencyModel {
  const scale = over.scale ?? DEFAULT_LATENCY.scale;
  if (!Number.isFinite(scale) || scale < 0) throw new RangeError(`latency scale: must be a number >= 0, got ${scale}`);
  return {
    scale,
    steps: { ...DEFAULT_LATENCY.steps, ...over.steps },
    bootDelay: over.bootDelay ?? DEFAULT_LATENCY.bootDelay,
  };
}

/** Milliseconds the `call`-th call of `step` takes on this host: the same in every process. */
export function drawStepLatencyMs(model: LatencyModel, seed: SeedPart, hostId: string, step: SimulatedStep, call: number): number {
  if (model.scale === 0) return 0;
  const { medianMs, p99Ms } = model.steps[step];
  return model.scale * logNormal(seededRandom('latency', seed, hostId, step, call), medianMs, p99Ms);
}

/** Milliseconds from the host's `kexecNumber`-th reboot syscall until its new kernel answers. */
export function drawBootDelayMs(model: LatencyModel, seed: SeedPart, hostId: string, kexecNumber: number): number {
  if (model.scale === 0) return 0;
  const { medianMs, p99Ms } = model.bootDelay;
  return model.scale * logNormal(seededRandom('boot-delay', seed, hostId, kexecNumber), medianMs, p99Ms);
}
