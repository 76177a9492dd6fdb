import { ACS_ENABLED, TopologyBuilder, type HostTopology } from '@luo-fleet/topology';

/** One vfio-pci NVMe alone in its IOMMU group under an ACS root port: preservable. */
export function singletonHost(): HostTopology {
  const b = new TopologyBuilder();
  b.add('0000:00:01.0', { pcieType: 'root_port', acs: ACS_ENABLED, group: 1, class: 0x060400 });
  b.add('0000:01:00.0', { parent: '0000:00:01.0', pcieType: 'endpoint', driver: 'vfio-pci', group: 2, class: 0x010802 });
  return b.build();
}

/** A vfio-pci SR-IOV PF (rejected IS_PHYSFN) next to a preservable singleton. */
export function physfnHost(): HostTopology {
  const b = new TopologyBuilder();
  b.add('0000:00:01.0', { pcieType: 'root_port', acs: ACS_ENABLED, group: 1, class: 0x060400 });
  b.add('0000:01:00.0', { parent: '0000:00:01.0', pcieType: 'endpoint', driver: 'vfio-pci', group: 2, sriovTotalVfs: 8, class: 0x020000 });
  b.add('0000:00:02.0', { pcieType: 'root_port', acs: ACS_ENABLED, group: 3, class: 0x060400 });
  b.add('0000:02:00.0', { parent: '0000:00:02.0', pcieType: 'endpoint', driver: 'vfio-pci', group: 4, class: 0x010802 });
  return b.build();
}

/** Two vfio-pci functions sharing one IOMMU group: both rejected GROUP_NOT_SINGLETON. */
export function sharedGroupHost(): HostTopology {
  const b = new TopologyBuilder();
  b.add('0000:00:01.0', { pcieType: 'root_port', group: 1, class: 0x060400 });
  b.add('0000:01:00.0', { parent: '0000:00:01.0', pcieType: 'endpoint', multifunction: true, driver: 'vfio-pci', group: 5, class: 0x030000 });
  b.add('0000:01:00.1', { parent: '0000:00:01.0', pcieType: 'endpoint', multifunction: true, driver: 'vfio-pci', group: 5, class: 0x040300 });
  return b.build();
}

export function host(id: string, labels: Record<string, string>, topology?: HostTopology) {
  return { id, labels, driver: { kind: 'simulated' as const }, ...(topology ? { topology } : {}) };
}
