import type IORedis from 'ioredis';
import {
  latencyModel,
  RedisSimulatedHostStore,
  SIMULATED_STEPS,
  SimulatedHostDriver,
  type HostDriver,
  type LatencyModel,
} from '@luo-fleet/handover';
import type { HandoverJobData } from '@luo-fleet/queue';

/** Picks the driver a job names. Simulated hosts live in Redis so any worker can drive any of them. */
export function hostDriverFactory(redis: IORedis, prefix: string, latencyScale: number, fixedLatencyMs?: number) {
  const simulated = new RedisSimulatedHostStore(redis, prefix);
  const latency = simulatedLatency(latencyScale, fixedLatencyMs);
  return (job: HandoverJobData): HostDriver => {
    switch (job.driver.kind) {
      case 'simulated':
        return new SimulatedHostDriver(job.plan.hostId, simulated, { latency });
      case 'agent':
        throw new Error(`agent driver for ${job.driver.url} is not available in this build`);
    }
  };
}

function simulatedLatency(scale: number, fixedMs?: number): LatencyModel {
  if (fixedMs === undefined) return latencyModel({ scale });
  const fixed = { medianMs: fixedMs, p99Ms: fixedMs };
  return latencyModel({
    scale: 1,
    steps: Object.fromEntries(SIMULATED_STEPS.map((s) => [s, fixed])),
    bootDelay: fixed,
  });
}
