import { generateHost } from '@luo-fleet/topology';
import { describe, expect, it } from 'vitest';
import { createSimulatedHost } from './create-simulated-host';
import { InMemorySimulatedHostStore, vmName } from './simulated-host-store';

describe('createSimulatedHost with VMs', () => {
  it('runs the VMs of a generated host, keeping their ids', async () => {
    const host = generateHost(4, 17, { kind: 'sriov-nic' });
    expect(host.vms.length).toBeGreaterThan(0);
    const store = new InMemorySimulatedHostStore();
    const state = await createSimulatedHost(store, { hostId: host.hostname, seed: 4, topology: host.topology, kernelRelease: '6.12.0', vms: host.vms });
    expect(state.stoppedVms).toEqual([]);
    expect(await store.vmsOn(host.hostname)).toEqual(host.vms.map((v) => vmName(host.hostname, v.id)).sort());
    await createSimulatedHost(store, { hostId: 'bare', seed: 4, topology: host.topology, kernelRelease: '6.12.0' });
    expect(await store.vmsOn('bare')).toEqual([]);
  });
});
