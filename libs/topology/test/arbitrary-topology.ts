import fc from 'fast-check';
import { formatBdf } from '../src/bdf';
import type { AcsState, HostTopology, PcieType } from '../src/model';
import { type DeviceSpec, TopologyBuilder } from '../src/topology-builder';

const EXPRESS_TYPES = [
  'endpoint',
  'legacy_endpoint',
  'root_port',
  'upstream_port',
  'downstream_port',
  'pcie_to_pci_bridge',
  'pci_to_pcie_bridge',
  'rc_integrated_endpoint',
  'rc_event_collector',
] as const;

const acsArb: fc.Arbitrary<AcsState> = fc.oneof(
  fc.record({ state: fc.constant('present' as const), capability: fc.integer({ min: 0, max: 0xffff }), control: fc.integer({ min: 0, max: 0xffff }) }),
  fc.constant({ state: 'absent' as const }),
  fc.constant({ state: 'unknown' as const }),
);

// PCIe type and ACS together, as config space of a natural size can express them.
const portArb: fc.Arbitrary<{ pcieType: PcieType; acs: AcsState }> = fc.oneof(
  fc.record({ pcieType: fc.constantFrom(...EXPRESS_TYPES), acs: acsArb }),
  fc.record({ pcieType: fc.constant('conventional' as const), acs: fc.constantFrom<AcsState>({ state: 'absent' }, { state: 'unknown' }) }),
  fc.constant({ pcieType: 'unknown' as const, acs: { state: 'unknown' as const } }),
);

const deviceArb = fc.record({
  domain: fc.constantFrom(0, 1, 0x10000),
  bus: fc.integer({ min: 0, max: 0xff }),
  dev: fc.integer({ min: 0, max: 0x1f }),
  fn: fc.integer({ min: 0, max: 7 }),
  parentPick: fc.nat(),
  role: fc.constantFrom('plain', 'plain', 'pf', 'vf'),
  pfPick: fc.nat(),
  sriovTotalVfs: fc.integer({ min: 0, max: 256 }),
  vendor: fc.integer({ min: 0, max: 0xffff }),
  device: fc.integer({ min: 0, max: 0xffff }),
  class: fc.integer({ min: 0, max: 0xffffff }),
  driver: fc.constantFrom(null, 'vfio-pci', 'nvme', 'pcieport', 'mlx5_core'),
  group: fc.option(fc.integer({ min: 0, max: 6 })),
  multifunction: fc.boolean(),
  port: portArb,
});

/** Random but consistent HostTopologies: bridges nest, VFs point at PFs, groups agree. */
export const topologyArb: fc.Arbitrary<HostTopology> = fc
  .uniqueArray(deviceArb, { minLength: 1, maxLength: 14, selector: (d) => `${d.domain}:${d.bus}:${d.dev}.${d.fn}` })
  .map((raw) => {
    const b = new TopologyBuilder();
    const bdfs = raw.map((d) => formatBdf({ domain: d.domain, bus: d.bus, device: d.dev, fn: d.fn }));
    const pfs: string[] = [];
    const bridges: string[] = [];
    raw.forEach((d, i) => {
      const spec: DeviceSpec = {
        vendor: d.vendor,
        device: d.device,
        class: d.class,
        driver: d.driver,
        group: d.group,
        // The kernel counts every function but 0 of a slot as multifunction (pci_scan_slot).
        multifunction: d.multifunction || d.fn > 0,
        pcieType: d.port.pcieType,
        acs: d.port.acs,
      };
      if (d.role === 'vf' && pfs.length > 0) {
        spec.physfn = pfs[d.pfPick % pfs.length];
      } else {
        const pick = d.parentPick % (bridges.length + 1);
        if (pick > 0) spec.parent = bridges[pick - 1];
        if (d.role === 'pf') {
          spec.sriovTotalVfs = d.sriovTotalVfs;
          pfs.push(bdfs[i]);
        } else bridges.push(bdfs[i]);
      }
      b.add(bdfs[i], spec);
    });
    return b.build();
  });
