import { envProblems, redisEnvSchema, redisSettingsOf, type RedisSettings } from '@luo-fleet/redis';
import { AgentTlsConfigError, agentTlsEnvSchema, agentTlsFilesOf, type AgentTlsFiles } from '@luo-fleet/handover';
import { readFileSync } from 'node:fs';
import { TokenConfigError, TokenStore } from './auth/auth-tokens';
import { z } from 'zod';

/** The environment the planner reads; every variable is optional. */
export const plannerEnvSchema = redisEnvSchema.extend({
  PLANNER_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  PLANNER_HOST: z.string().min(1).default('127.0.0.1'),
  /** The JSON log's threshold (pino's levels). */
  LUO_FLEET_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LUO_FLEET_TOKENS_FILE: z.string().min(1).optional(),
  LUO_FLEET_TOKENS: z.string().optional(),
  LUO_FLEET_AUDIT_MAXLEN: z.coerce.number().int().min(1000).default(100_000),
  /** Body limit of POST /v1/hosts:batch (every other route takes 1mb): 1,000 hosts of the largest generated topology are ~64 MB. */
  PLANNER_BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'must be like 64mb')
    .default('64mb'),
  /** Per-host HMAC secrets (file name = host id), as the workers hold them: for reading topologies from agents. */
  AGENT_SECRETS_DIR: z.string().min(1).optional(),
  /** How long a registration waits for an agent's topology answer. */
  AGENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5_000),
  /** PEM files: with both set the planner serves HTTPS only. */
  PLANNER_TLS_CERT_FILE: z.string().min(1).optional(),
  PLANNER_TLS_KEY_FILE: z.string().min(1).optional(),
  /** Mutual TLS with agents, the workers' variables: AGENT_TLS_CERT_FILE, AGENT_TLS_KEY_FILE, AGENT_TLS_CA_FILE. */
  ...agentTlsEnvSchema.shape,
});

/** The planner's own certificate and key (PEM): it then serves HTTPS only. */
export interface PlannerTls {
  cert: Buffer;
  key: Buffer;
}

export interface PlannerSettings {
  port: number;
  host: string;
  redis: RedisSettings;
  tokens: TokenStore;
  auditMaxLen: number;
  bodyLimit: string;
  agents: { secretsDir?: string; timeoutMs: number; tls?: AgentTlsFiles };
  logLevel: string;
  tls?: PlannerTls;
}

/** Bad planner configuration; the message is one line naming each wrong variable. */
export class PlannerConfigError extends Error {
  constructor(problems: string) {
    super(`configuration: ${problems}`);
    this.name = 'PlannerConfigError';
  }
}

export function plannerSettingsFromEnv(env: Record<string, string | undefined>): PlannerSettings {
  const parsed = plannerEnvSchema.safeParse(env);
  if (!parsed.success) throw new PlannerConfigError(envProblems(parsed.error));
  const e = parsed.data;
  let tokens: TokenStore;
  try {
    tokens = TokenStore.fromSources({ file: e.LUO_FLEET_TOKENS_FILE, list: e.LUO_FLEET_TOKENS });
  } catch (err) {
    if (err instanceof TokenConfigError) throw new PlannerConfigError(err.message);
    throw err;
  }
  if (tokens.size === 0) throw new PlannerConfigError('no API tokens: set LUO_FLEET_TOKENS_FILE or LUO_FLEET_TOKENS (name:role:token,...)');
  return {
    tls: plannerTlsOf(e.PLANNER_TLS_CERT_FILE, e.PLANNER_TLS_KEY_FILE),
    port: e.PLANNER_PORT,
    host: e.PLANNER_HOST,
    redis: redisSettingsOf(e),
    tokens,
    auditMaxLen: e.LUO_FLEET_AUDIT_MAXLEN,
    bodyLimit: e.PLANNER_BODY_LIMIT,
    agents: { secretsDir: e.AGENT_SECRETS_DIR, timeoutMs: e.AGENT_TIMEOUT_MS, tls: agentTlsOf(e) },
    logLevel: e.LUO_FLEET_LOG_LEVEL,
  };
}

/** Both files or neither; each read once, at start, so a wrong path is a configuration error. */
function plannerTlsOf(certFile: string | undefined, keyFile: string | undefined): PlannerTls | undefined {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new PlannerConfigError('PLANNER_TLS_CERT_FILE and PLANNER_TLS_KEY_FILE: set both for HTTPS, or neither');
  }
  const read = (name: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new PlannerConfigError(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  return { cert: read('PLANNER_TLS_CERT_FILE', certFile), key: read('PLANNER_TLS_KEY_FILE', keyFile) };
}

function agentTlsOf(env: z.output<typeof plannerEnvSchema>): AgentTlsFiles | undefined {
  try {
    return agentTlsFilesOf(env);
  } catch (err) {
    if (err instanceof AgentTlsConfigError) throw new PlannerConfigError(err.message);
    throw err;
  }
}
