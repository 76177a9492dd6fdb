import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisClient } from '@luo-fleet/redis';
import { createAgentHostDriverFactory, readAgentTls, secretFromFileContent, type AgentTlsFiles, type HostDriver } from '@luo-fleet/handover';
import { latencyModel, RedisSimulatedHostStore, SIMULATED_STEPS, SimulatedHostDriver, type LatencyModel } from '@luo-fleet/simulated-host';
import type { HandoverJobData } from '@luo-fleet/jobs';

/** Picks the driver a job names. Simulated hosts live in Redis so any worker can drive any of them. */
export interface HostDriverSettings {
  latencyScale: number;
  fixedLatencyMs?: number;
  /** Directory holding one file per agent-backed host, named after the host id, with its HMAC secret. */
  agentSecretsDir?: string;
  agentTimeoutMs?: number;
  agentRetries?: number;
  agentRetryDelayMs?: number;
  /** Mutual TLS with the agents: PEM files, read at each handover like the secrets. */
  agentTls?: AgentTlsFiles;
}

export function hostDriverFactory(redis: RedisClient, prefix: string, settings: HostDriverSettings) {
  const simulated = new RedisSimulatedHostStore(redis, prefix);
  const latency = simulatedLatency(settings.latencyScale, settings.fixedLatencyMs);
  // Read at each handover, so a secret rotated on disk is used by the next handover without a restart.
  const agent = createAgentHostDriverFactory(
    (hostId) => {
      if (!settings.agentSecretsDir) return undefined;
      try {
        return secretFromFileContent(readFileSync(join(settings.agentSecretsDir, hostId)));
      } catch {
        return undefined;
      }
    },
    {
      ...(settings.agentTimeoutMs === undefined ? {} : { timeoutMs: settings.agentTimeoutMs }),
      ...(settings.agentRetries === undefined ? {} : { retries: settings.agentRetries }),
      ...(settings.agentRetryDelayMs === undefined ? {} : { retryDelayMs: settings.agentRetryDelayMs }),
    },
  );
  const tls = settings.agentTls;
  return (job: HandoverJobData): HostDriver => {
    switch (job.driver.kind) {
      case 'simulated':
        return new SimulatedHostDriver(job.plan.hostId, simulated, { latency });
      case 'agent':
        return agent({
          hostId: job.plan.hostId,
          url: job.driver.url,
          ...(tls ? { tls: readAgentTls(tls) } : {}),
        });
    }
  };
}

function simulatedLatency(scale: number, fixedMs?: number): LatencyModel {
  if (fixedMs === undefined) return latencyModel({ scale });
  // Zero everywhere is the no-latency model: the driver then reads and changes a host in one call.
  if (fixedMs === 0) return latencyModel({ scale: 0 });
  const fixed = { medianMs: fixedMs, p99Ms: fixedMs };
  return latencyModel({
    scale: 1,
    steps: Object.fromEntries(SIMULATED_STEPS.map((s) => [s, fixed])),
    bootDelay: fixed,
  });
}
