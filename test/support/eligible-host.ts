import { ACS_ENABLED, TopologyBuilder, type HostTopology } from '@luo-fleet/topology';

/**
 * A GPU host every rule profile accepts: two GPUs bound to vfio-pci, each alone in its IOMMU group
 * behind an ACS-enabled root port, plus a host-owned SATA controller. Shared by the worker and
 * rollout tests and the rollout benchmarks.
 */
export function eligibleGpuHostTopology(): HostTopology {
  const b = new TopologyBuilder();
  b.add('0000:00:01.0', { pcieType: 'root_port', acs: ACS_ENABLED, group: 1, class: 0x060400 });
  b.add('0000:00:02.0', { pcieType: 'root_port', acs: ACS_ENABLED, group: 2, class: 0x060400 });
  b.add('0000:01:00.0', { parent: '0000:00:01.0', vendor: 0x10de, device: 0x2330, class: 0x030200, driver: 'vfio-pci', pcieType: 'endpoint', group: 10 });
  b.add('0000:02:00.0', { parent: '0000:00:02.0', vendor: 0x10de, device: 0x2330, class: 0x030200, driver: 'vfio-pci', pcieType: 'endpoint', group: 11 });
  b.add('0000:00:1f.2', { class: 0x010601, driver: 'ahci', group: 20 });
  return b.build();
}
