import { describe, expect, it } from 'vitest';
import { FleetGeneratorError, generateFleet, generateHost, HOST_KINDS } from './fleet-generator';
import { parseVms } from './vm-json';

describe('generated VMs', () => {
  it('are valid VM lists of their host, holding only its vfio-pci devices', () => {
    for (const host of generateFleet(400, 11)) {
      expect(() => parseVms(JSON.parse(JSON.stringify(host.vms)), host.topology), host.hostname).not.toThrow();
      const driver = new Map(host.topology.devices.map((d) => [d.bdf, d.driver]));
      for (const vm of host.vms) for (const bdf of vm.devices) expect(driver.get(bdf), `${host.hostname} ${vm.id} ${bdf}`).toBe('vfio-pci');
    }
  });

  it('are deterministic by seed and leave the topology of a seed as it was without them', () => {
    expect(generateHost(7, 321).vms).toEqual(generateHost(7, 321).vms);
    const a = JSON.stringify(generateHost(7, 321).vms);
    expect([8, 9, 10].some((s) => JSON.stringify(generateHost(s, 321).vms) !== a)).toBe(true);
    // The VM stream is its own: asking for a VM count changes no topology.
    expect(generateHost(7, 321, { vms: 8 }).topology).toEqual(generateHost(7, 321).topology);
  });

  it('come in an exact number when asked, every unit still assigned or idle', () => {
    for (const kind of HOST_KINDS) {
      for (const vms of [0, 1, 8, 40]) {
        const host = generateHost(3, 5, { kind, devices: 32, vms });
        expect(host.vms, `${kind} ${vms}`).toHaveLength(vms);
        expect(new Set(host.vms.map((v) => v.id)).size).toBe(vms);
      }
    }
    expect(() => generateHost(1, 0, { vms: -1 })).toThrow(FleetGeneratorError);
    expect(() => generateHost(1, 0, { vms: 1.5 })).toThrow(/vms/);
  });

  it('mix GPU VMs on hugetlb, many small VMs on VFs, idle vfio-pci devices and legacy anonymous memory', () => {
    const hosts = [...generateFleet(1000, 20260401)];
    const ofKind = (kind: string) => hosts.filter((h) => h.labels.kind === kind);
    const gpuVms = ofKind('gpu').flatMap((h) => h.vms.filter((v) => v.devices.length > 0));
    expect(gpuVms.filter((v) => v.memory.backing === 'memfd-hugetlb').length / gpuVms.length).toBeGreaterThan(0.5);
    const nicHosts = ofKind('sriov-nic');
    const vfHolders = (h: (typeof hosts)[number]) => {
      const vfs = new Set(h.topology.devices.filter((d) => d.isVirtfn).map((d) => d.bdf));
      return h.vms.filter((v) => v.devices.length === 1 && vfs.has(v.devices[0]));
    };
    expect(Math.max(...nicHosts.map((h) => vfHolders(h).length))).toBeGreaterThanOrEqual(8);
    expect(nicHosts.flatMap(vfHolders).every((v) => v.memory.sizeMiB <= 8192)).toBe(true);
    const idle = hosts.filter((h) => {
      const held = new Set(h.vms.flatMap((v) => v.devices));
      return h.topology.devices.some((d) => d.driver === 'vfio-pci' && !held.has(d.bdf));
    });
    expect(idle.length).toBeGreaterThan(hosts.length / 10);
    const legacy = ofKind('legacy').flatMap((h) => h.vms.filter((v) => v.devices.length > 0));
    expect(legacy.filter((v) => v.memory.backing === 'anonymous' || v.memory.backing === 'file').length / legacy.length).toBeGreaterThan(0.5);
    const allShmem = hosts.filter((h) => h.vms.every((v) => v.memory.backing === 'memfd-shmem' && (v.devices.length === 0 || (!v.balloon && !v.virtioMem))));
    expect(allShmem.length).toBeGreaterThan(hosts.length / 10);
  });

  it('on general-purpose hosts: device-less, all migratable, one backing per host, shmem or anonymous', () => {
    const hosts = Array.from({ length: 200 }, (_, i) => generateHost(13, i, { kind: 'general' }));
    const backings = new Set<string>();
    for (const host of hosts) {
      expect(host.vms.length, host.hostname).toBeGreaterThanOrEqual(4);
      expect(host.vms.every((v) => v.devices.length === 0 && v.migratable), host.hostname).toBe(true);
      const own = new Set(host.vms.map((v) => v.memory.backing));
      expect(own.size, host.hostname).toBe(1);
      backings.add([...own][0]);
    }
    expect([...backings].sort()).toEqual(['anonymous', 'memfd-shmem']);
    const anonymous = hosts.filter((h) => h.vms[0].memory.backing === 'anonymous').length;
    expect(anonymous).toBeGreaterThan(40);
    expect(anonymous).toBeLessThan(100);
  });
});
