import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { AgentTls } from './agent-tls';

/**
 * Mutual TLS with agents, as every client of theirs (the workers, and the planner when it reads a
 * host's topology at registration) is configured: the variables naming this client's certificate
 * and key and the CA that signed the agents' certificates. All three, or none.
 */
export const agentTlsEnvSchema = z.object({
  AGENT_TLS_CERT_FILE: z.string().min(1).optional(),
  AGENT_TLS_KEY_FILE: z.string().min(1).optional(),
  AGENT_TLS_CA_FILE: z.string().min(1).optional(),
});

export type AgentTlsEnv = z.output<typeof agentTlsEnvSchema>;

/** Where a client's PEM files for mutual TLS with agents are. */
export interface AgentTlsFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/** An AGENT_TLS_* setting that cannot work; the message names the variable. */
export class AgentTlsConfigError extends Error {
  constructor(problem: string) {
    super(problem);
    this.name = 'AgentTlsConfigError';
  }
}

const VARIABLES: Record<keyof AgentTlsFiles, keyof AgentTlsEnv> = {
  certFile: 'AGENT_TLS_CERT_FILE',
  keyFile: 'AGENT_TLS_KEY_FILE',
  caFile: 'AGENT_TLS_CA_FILE',
};

/**
 * The files the variables name, or undefined when none is set. Each is read once here, so that a
 * wrong path stops the process at start instead of failing its first request to an agent.
 */
export function agentTlsFilesOf(env: AgentTlsEnv): AgentTlsFiles | undefined {
  const { AGENT_TLS_CERT_FILE: certFile, AGENT_TLS_KEY_FILE: keyFile, AGENT_TLS_CA_FILE: caFile } = env;
  if (certFile === undefined && keyFile === undefined && caFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined || caFile === undefined) {
    throw new AgentTlsConfigError('AGENT_TLS_CERT_FILE, AGENT_TLS_KEY_FILE and AGENT_TLS_CA_FILE: set all three for mutual TLS with agents, or none');
  }
  const files = { certFile, keyFile, caFile };
  readAgentTls(files);
  return files;
}

/** The PEM bytes, read at each use like the agent secrets, so certificates renewed on disk are used without a restart. */
export function readAgentTls(files: AgentTlsFiles): AgentTls {
  const read = (field: keyof AgentTlsFiles): Buffer => {
    try {
      return readFileSync(files[field]);
    } catch (err) {
      throw new AgentTlsConfigError(`${VARIABLES[field]}: cannot read ${files[field]} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  return { cert: read('certFile'), key: read('keyFile'), ca: read('caFile') };
}
