import { generateHost } from '@luo-fleet/topology';
import { describe, expect, it } from 'vitest';
import { createSimulatedHost } from './create-simulated-host';
import { InMemorySimulatedHostStore } from './simulated-host-store';

describe('createSimulatedHost with VMs', () => {
  it('runs the VMs of a generated host, keeping their ids', async () => {
    const host = generateHost(4, 17, { kind: 'sriov-nic' });
    expect(host.vms.length).toBeGreaterThan(0);
    const store = new InMemorySimulatedHostStore();
    const state = await createSimulatedHost(store, { hostId: host.hostname, seed: 4, topology: host.topology, kernelRelease: '6.12.0', vms: host.vms });
    expect(state.vms).toEqual(host.vms.map((v) => v.id));
    expect((await store.load(host.hostname))?.vms).toEqual(state.vms);
    const bare = await createSimulatedHost(store, { hostId: 'bare', seed: 4, topology: host.topology, kernelRelease: '6.12.0' });
    expect(bare.vms).toEqual([]);
  });
});
