import { HttpException } from '@nestjs/common';
import type { InventoryHostInput } from '@luo-fleet/store';
import { InvalidInput, issueSummary, statusText, type ApiErrorBody, type ApiIssue } from '../http/api-error';
import { AgentTopologyProblem, type AgentTopologySource } from './agent-topology-source';
import type { HostInputBody } from './host-schemas';
import { vmIssuesOnHost } from './host-vms';

/** Agents asked at once for one batch: enough to register a rack quickly, few enough not to flood the network. */
const FETCH_PARALLELISM = 16;

/**
 * The agent of one or more hosts could not give their topology, so nothing was stored. 400 when a
 * registration is wrong (no secret, refused, bad answer); 502 when every problem is an agent that
 * did not answer (the registration may be fine: retry once the agent is up). Each issue names
 * `driver.url` (`hosts.N.driver.url` in a batch).
 */
export class AgentTopologyRefused extends HttpException {
  constructor(issues: ApiIssue[], allUnreachable: boolean) {
    const status = allUnreachable ? 502 : 400;
    const body: ApiErrorBody = { statusCode: status, error: statusText(status), message: `topology from agent: ${issueSummary(issues)}`, issues };
    super(body, status);
  }
}

/**
 * The hosts as they will be stored: an agent-backed host sent without `topology` gets the one its
 * agent reports, and its VMs and whether LUO is on too unless `vms` or `luoEnabled` was sent;
 * `topology: null` registers it without one
 * (e.g. before its agent runs). Sent VMs must then name devices of the topology (400 naming the
 * field). `fieldOf(i)` is where host i sits in the request (`''` or `hosts.3.`).
 */
export async function withAgentTopologies(
  source: AgentTopologySource,
  hosts: readonly HostInputBody[],
  fieldOf: (index: number) => string,
): Promise<InventoryHostInput[]> {
  const resolved: InventoryHostInput[] = hosts.map((h) => ({
    id: h.id,
    labels: h.labels,
    driver: h.driver,
    topology: h.topology ?? null,
    vms: h.vms,
    ...(h.capacity ? { capacity: h.capacity } : {}),
    ...(h.luoEnabled !== undefined ? { luoEnabled: h.luoEnabled } : {}),
  }));
  const wanted = hosts.flatMap((h, i) => (h.driver.kind === 'agent' && h.topology === undefined ? [{ i, url: h.driver.url }] : []));
  const problems: Array<{ i: number; problem: AgentTopologyProblem }> = [];
  let next = 0;
  const worker = async () => {
    while (next < wanted.length) {
      const { i, url } = wanted[next++];
      try {
        const report = await source.fetch(hosts[i].id, url);
        resolved[i].topology = report.topology;
        resolved[i].vms ??= report.vms;
        resolved[i].luoEnabled ??= report.luoEnabled;
      } catch (err) {
        if (!(err instanceof AgentTopologyProblem)) throw err;
        problems.push({ i, problem: err });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(FETCH_PARALLELISM, wanted.length) }, worker));
  if (problems.length > 0) {
    problems.sort((a, b) => a.i - b.i);
    throw new AgentTopologyRefused(
      problems.map(({ i, problem }) => ({ field: `${fieldOf(i)}driver.url`, problem: problem.problem })),
      problems.every(({ problem }) => problem.unreachable),
    );
  }
  const vmIssues = resolved.flatMap((h, i) => vmIssuesOnHost(h.vms, h.topology, fieldOf(i)));
  if (vmIssues.length > 0) throw new InvalidInput(vmIssues);
  return resolved;
}
