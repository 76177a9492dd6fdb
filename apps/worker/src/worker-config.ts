import { z } from 'zod';
import { envProblems, redisEnvSchema, redisSettingsOf, type RedisSettings } from '@luo-fleet/redis';
import { AgentTlsConfigError, agentTlsEnvSchema, agentTlsFilesOf, type AgentTlsFiles } from '@luo-fleet/handover';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

/** Every knob of a worker process, from its environment; a bad value stops it at start with the variable named. */
const WorkerEnv = redisEnvSchema.extend({
  WORKER_CONCURRENCY: int(50, 1),
  /** Host lease: renewed every third of it; a dead worker's hosts are free again after it. */
  LEASE_TTL_MS: int(30_000, 500),
  /** BullMQ job lock and stall check: how soon a killed worker's job is picked up again. */
  JOB_LOCK_MS: int(30_000, 500),
  STALLED_INTERVAL_MS: int(15_000, 200),
  COORDINATOR_TICK_MS: int(100, 5),
  /** How often a worker checks that every active rollout has its coordinator job. */
  COORDINATOR_WATCHDOG_MS: int(10_000, 100),
  STEP_TIMEOUT_MS: int(10 * 60_000, 10),
  BOOT_TIMEOUT_MS: int(15 * 60_000, 10),
  BOOT_POLL_MS: int(2_000, 1),
  SAME_BOOT_GRACE_MS: int(30_000, 0),
  /** Simulated hosts: multiplies their phase latencies (0 = as fast as possible). */
  SIM_LATENCY_SCALE: z.coerce.number().min(0).default(1),
  /** Simulated hosts: every step and boot take exactly this long (tests that must land a kill inside a phase). */
  SIM_FIXED_LATENCY_MS: z.coerce.number().int().min(0).optional(),
  /** Agent-backed hosts: directory of per-host HMAC secrets (file name = host id). */
  AGENT_SECRETS_DIR: z.string().min(1).optional(),
  AGENT_TIMEOUT_MS: z.coerce.number().int().min(100).optional(),
  /**
   * Agent-backed hosts: resends of a request that is safe to repeat after no answer, the n-th after
   * n x AGENT_RETRY_DELAY_MS. Together how long an agent may be away (restarting) before the step
   * fails; defaults 3 and 1000 (6 s).
   */
  AGENT_RETRIES: z.coerce.number().int().min(0).max(100).optional(),
  AGENT_RETRY_DELAY_MS: z.coerce.number().int().min(1).max(600_000).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Agent-backed hosts, mutual TLS: AGENT_TLS_CERT_FILE, AGENT_TLS_KEY_FILE, AGENT_TLS_CA_FILE, as the planner reads them. */
  ...agentTlsEnvSchema.shape,
});

export type WorkerConfig = z.infer<typeof WorkerEnv> & { redis: RedisSettings; agentTls?: AgentTlsFiles };

/** DI token of the WorkerConfig that main.ts read, once, before the module was built. */
export const WORKER_CONFIG = Symbol('WORKER_CONFIG');

/** A worker environment that cannot run; the message is one line naming each wrong variable. */
export class WorkerConfigError extends Error {
  override name = 'WorkerConfigError';
}

export function loadWorkerConfig(env: NodeJS.ProcessEnv): WorkerConfig {
  const parsed = WorkerEnv.safeParse(env);
  if (!parsed.success) throw new WorkerConfigError(`configuration: ${envProblems(parsed.error)}`);
  let agentTls: AgentTlsFiles | undefined;
  try {
    agentTls = agentTlsFilesOf(parsed.data);
  } catch (err) {
    if (err instanceof AgentTlsConfigError) throw new WorkerConfigError(`configuration: ${err.message}`);
    throw err;
  }
  return { ...parsed.data, redis: redisSettingsOf(parsed.data), ...(agentTls ? { agentTls } : {}) };
}
