/**
 * Where a host's agent listens: scheme, host and port, nothing else (`https://hv-0042.mgmt:7450`).
 * The driver appends its own paths, so a path, query or fragment in the address could only point
 * its signed requests somewhere else (`http://x/?` turns `/v1/topology` into a query string);
 * credentials have no use either. The inventory, the planner and the workers' driver all hold
 * addresses to this one rule.
 */
export const AGENT_ADDRESS_RULE = 'an agent address is http:// or https://, a host and an optional port, and nothing else (no path, query, fragment or user:password@)';

const MAX_ADDRESS = 255;
/** Scheme and an authority without `/ ? # @ \` or whitespace, then at most a bare `/`. */
const ADDRESS = /^(https?):\/\/([^/?#@\\\s]+)\/?$/i;

/** An agent address that breaks AGENT_ADDRESS_RULE; `problem` says how. */
export class AgentAddressError extends Error {
  constructor(readonly problem: string) {
    super(`agent address: ${problem}`);
    this.name = 'AgentAddressError';
  }
}

/** The address in its one canonical form (`url.origin`: lower-case host, no default port, no slash); throws AgentAddressError. */
export function agentAddress(text: string): string {
  if (text.length > MAX_ADDRESS) throw new AgentAddressError(`longer than ${MAX_ADDRESS} characters`);
  if (!ADDRESS.test(text)) throw new AgentAddressError(`must be ${AGENT_ADDRESS_RULE}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AgentAddressError(`not a valid host and port: must be ${AGENT_ADDRESS_RULE}`);
  }
  // The pattern already keeps these out; checked on the parsed form too, as the driver sends it.
  if (url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.hostname === '') {
    throw new AgentAddressError(`must be ${AGENT_ADDRESS_RULE}`);
  }
  return url.origin;
}
