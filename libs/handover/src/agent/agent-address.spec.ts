import { describe, expect, it } from 'vitest';
import { AgentAddressError, agentAddress } from './agent-address';

describe('agentAddress', () => {
  it('keeps scheme, host and port, in canonical form', () => {
    expect(agentAddress('https://hv-0042.mgmt:7450')).toBe('https://hv-0042.mgmt:7450');
    expect(agentAddress('http://127.0.0.1:7450/')).toBe('http://127.0.0.1:7450');
    expect(agentAddress('HTTPS://HV-1.Example:443')).toBe('https://hv-1.example');
    expect(agentAddress('http://[::1]:7450')).toBe('http://[::1]:7450');
    expect(agentAddress('http://hv-1')).toBe('http://hv-1');
  });

  it('refuses a path, a query, a fragment, credentials and other schemes', () => {
    const refused = [
      'http://hv-1:7450/v1/topology',
      'http://hv-1:7450/?',
      'http://hv-1:7450?x=1',
      'http://hv-1:7450#frag',
      'http://hv-1:7450/#',
      'http://user:pw@hv-1:7450',
      'http://@hv-1',
      'http://hv-1\\@evil:7450',
      'http://hv-1:7450/.',
      'http://hv-1:7450//',
      'ftp://hv-1',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'http://',
      'http://hv 1:7450',
      'http://hv-1:99999',
      'http://hv-1:7450\n',
      ' http://hv-1',
      `http://${'a'.repeat(260)}`,
      '',
    ];
    for (const text of refused) expect(() => agentAddress(text), JSON.stringify(text)).toThrow(AgentAddressError);
  });
});
