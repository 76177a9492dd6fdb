/**
 * Emulated PCIe topologies for the test guest, as data: QEMU `-device` values, in order. The
 * guest's q35 root complex is `pcie.0`; the harness's own devices (two virtio-9p, one virtio-net)
 * sit on it as integrated endpoints. QEMU 7.2's `pcie-root-port` offers ACS (unless
 * `disable-acs=on`), `xio3130-downstream` offers none, `pcie-pci-bridge` gives a conventional bus.
 */
export interface EmulatedTopology {
  name: string;
  description: string;
  devices: string[];
}

export const TOPOLOGIES: Record<string, EmulatedTopology> = {
  rootPortWithAcs: {
    name: 'root-port-acs',
    description: 'a root port with ACS and one endpoint below it',
    devices: ['pcie-root-port,id=rp1,chassis=1,slot=1', 'e1000e,bus=rp1,addr=0.0'],
  },
  switchWithoutAcs: {
    name: 'switch-no-acs',
    description: 'a switch whose two downstream ports lack ACS, an endpoint below each',
    devices: [
      'pcie-root-port,id=rp2,chassis=2,slot=2',
      'x3130-upstream,id=up2,bus=rp2',
      'xio3130-downstream,id=dp21,bus=up2,chassis=21,slot=0',
      'xio3130-downstream,id=dp22,bus=up2,chassis=22,slot=0',
      'e1000e,bus=dp21,addr=0.0',
      'e1000e,bus=dp22,addr=0.0',
    ],
  },
  conventionalBridge: {
    name: 'pci-bridge',
    description: 'a conventional PCI bridge with two devices behind it',
    devices: ['pcie-root-port,id=rp3,chassis=3,slot=3', 'pcie-pci-bridge,id=br3,bus=rp3', 'e1000,bus=br3,addr=1.0', 'e1000,bus=br3,addr=2.0'],
  },
  multifunction: {
    name: 'multifunction',
    description: 'a two-function device (functions without ACS) below a root port',
    devices: ['pcie-root-port,id=rp4,chassis=4,slot=4', 'e1000e,bus=rp4,addr=0.0,multifunction=on', 'e1000e,bus=rp4,addr=0.1'],
  },
};

/** Every topology at once: one guest boot checks them all. */
export const ALL_TOPOLOGIES: EmulatedTopology = {
  name: 'all',
  description: Object.values(TOPOLOGIES).map((t) => t.description).join('; '),
  devices: Object.values(TOPOLOGIES).flatMap((t) => t.devices),
};
