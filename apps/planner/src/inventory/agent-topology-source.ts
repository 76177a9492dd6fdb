import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  agentAddress,
  AgentAddressError,
  AgentAnswerError,
  AgentHostDriver,
  AgentTlsConfigError,
  AgentUnreachableError,
  HostUnreachableError,
  readAgentTls,
  secretFromFileContent,
  StepFailedError,
  type AgentTls,
  type AgentTlsFiles,
} from '@luo-fleet/handover';
import { HOST_ID } from '@luo-fleet/store';
import type { HostTopology, Vm } from '@luo-fleet/topology';

/** The agent refuses keys shorter than this, so the planner does not bother sending a request signed with one. */
const MIN_SECRET_BYTES = 16;

export interface AgentTopologySourceOptions {
  /** One file per host, named after the host id, holding its HMAC secret: the workers' AGENT_SECRETS_DIR layout. */
  secretsDir?: string;
  timeoutMs: number;
  /** Mutual TLS with agents, the workers' AGENT_TLS_* files: agents are then reached over https only. */
  tls?: AgentTlsFiles;
  /** Kept small: an operator is waiting on the registration request. */
  retries: number;
  retryDelayMs: number;
  /** Told the whole story of each failure (the agent's own text included), for the planner's log. */
  onProblem?: (hostId: string, detail: string) => void;
}

/**
 * Why a host's topology could not be read from its agent. `unreachable`: the agent did not answer
 * (worth retrying later); otherwise the registration itself is wrong (no secret, refused, bad answer).
 */
export class AgentTopologyProblem extends Error {
  constructor(
    readonly problem: string,
    readonly unreachable: boolean,
  ) {
    super(problem);
    this.name = 'AgentTopologyProblem';
  }
}

/** What an agent reports of its host: the topology, the VMs its `vms` hook lists (none without one), and whether LUO is on (its identity). */
export interface AgentReport {
  topology: HostTopology;
  vms: Vm[];
  luoEnabled: boolean;
}

/**
 * Reads a host's topology, VMs and identity from its agent (`GET /v1/topology`, `GET /v1/vms`,
 * `GET /v1/identity`, signed with the host's secret), the way a worker would talk to it, so a host
 * registered by address gets exactly what its sysfs, VMM and kernel say. The driver checks the answers with parseHostTopology and parseVms
 * (a VM device the topology lacks is a wrong answer). A problem names what went wrong in the
 * driver's words only: nothing the agent (or whatever answers at that address) sent goes back to
 * the API caller; the details go to onProblem.
 */
export class AgentTopologySource {
  constructor(private readonly options: AgentTopologySourceOptions) {}

  async fetch(hostId: string, url: string): Promise<AgentReport> {
    try {
      const driver = new AgentHostDriver({
        url,
        hostId,
        secret: this.secretOf(hostId),
        timeoutMs: this.options.timeoutMs,
        retries: this.options.retries,
        retryDelayMs: this.options.retryDelayMs,
        ...this.tlsFor(hostId, url),
      });
      const topology = await driver.topology();
      const [vms, identity] = await Promise.all([driver.vms(topology), driver.identity()]);
      return { topology, vms: vms ?? [], luoEnabled: identity.luoEnabled };
    } catch (err) {
      // An address stored before the address rule held (a refresh reads the stored one).
      if (err instanceof AgentAddressError) throw new AgentTopologyProblem(err.problem, false);
      if (err instanceof HostUnreachableError) throw this.problem(hostId, err, err instanceof AgentUnreachableError ? err.reason : `agent ${hostId} unreachable`, true);
      // Refused (401: the secrets differ), an error status, a redirect, or an answer that is not a HostTopology or VM list.
      if (err instanceof StepFailedError) throw this.problem(hostId, err, err instanceof AgentAnswerError ? err.reason : `agent ${hostId} could not give its topology or VMs`, false);
      throw err;
    }
  }

  private problem(hostId: string, err: Error, reason: string, unreachable: boolean): AgentTopologyProblem {
    this.options.onProblem?.(hostId, err.message);
    return new AgentTopologyProblem(reason, unreachable);
  }

  /** The client certificate for an https agent, read per request like the workers do; an http:// address cannot work with it. */
  private tlsFor(hostId: string, url: string): { tls?: AgentTls } {
    const files = this.options.tls;
    if (files === undefined) return {};
    if (!agentAddress(url).startsWith('https://')) {
      throw new AgentTopologyProblem('the planner talks to agents over mutual TLS (AGENT_TLS_CERT_FILE), so the agent address must be https://', false);
    }
    try {
      return { tls: readAgentTls(files) };
    } catch (err) {
      // The file's path and error go to the log, not to the API caller.
      if (err instanceof AgentTlsConfigError) throw this.problem(hostId, err, 'the planner cannot read its client certificate for agents (AGENT_TLS_* files); see its log', false);
      throw err;
    }
  }

  // Read per request, like the workers do, so a secret rotated on disk is used without a restart.
  private secretOf(hostId: string): Buffer {
    const dir = this.options.secretsDir;
    if (dir === undefined) {
      throw new AgentTopologyProblem('the planner has no AGENT_SECRETS_DIR, so it cannot ask agents for topologies; send `topology` or configure the planner', false);
    }
    // The id was validated by the body schema; checked again because it becomes a file name.
    if (!HOST_ID.test(hostId)) throw new AgentTopologyProblem(`host id ${JSON.stringify(hostId)} cannot name a secret file`, false);
    let secret: Buffer;
    try {
      secret = secretFromFileContent(readFileSync(join(dir, hostId)));
    } catch {
      throw new AgentTopologyProblem(`the planner has no agent secret for host ${hostId} (AGENT_SECRETS_DIR/${hostId} is missing or unreadable)`, false);
    }
    if (secret.length < MIN_SECRET_BYTES) {
      throw new AgentTopologyProblem(`the planner's agent secret for host ${hostId} is shorter than ${MIN_SECRET_BYTES} bytes`, false);
    }
    return secret;
  }
}
