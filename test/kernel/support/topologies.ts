/**
 * Emulated PCIe topologies for the test guest, as data: QEMU `-device` values, in order. The
 * guest's q35 root complex is `pcie.0`; the harness's own devices (two virtio-9p, one virtio-net)
 * sit on it as integrated endpoints. QEMU 7.2's `pcie-root-port` offers ACS (unless
 * `disable-acs=on`), `xio3130-downstream` offers none, `pcie-pci-bridge` gives a conventional bus.
 * Its `nvme` controller is the one SR-IOV device this kernel drives (nvme-pci; `igb`, QEMU's
 * SR-IOV NIC, needs a driver the test kernel lacks).
 */
export interface EmulatedTopology {
  name: string;
  description: string;
  devices: string[];
  /**
   * VFs the guest enables on every SR-IOV PF at boot (`sriov_numvfs`), before the kernel's groups
   * are listed or the agent starts; left without a driver (`sriov_drivers_autoprobe` 0), as VFs
   * waiting to be handed to VMs are.
   */
  numVfs?: number;
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
  sriov: {
    name: 'sriov',
    description: 'an SR-IOV NVMe controller (PF) below a root port, with two VFs enabled',
    // QEMU's SR-IOV needs an NVM subsystem and flexible queue and interrupt resources for the VFs;
    // it requires max_ioqpairs - sriov_vq_flexible >= 2 for the PF's own queues.
    devices: [
      'pcie-root-port,id=rp5,chassis=5,slot=5',
      'nvme-subsys,id=nvs5,nqn=luo-sriov',
      'nvme,bus=rp5,serial=luosriov5,subsys=nvs5,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,max_ioqpairs=6,msix_qsize=3',
    ],
    numVfs: 2,
  },
};

/** Every topology at once: one guest boot checks them all. */
export const ALL_TOPOLOGIES: EmulatedTopology = {
  name: 'all',
  description: Object.values(TOPOLOGIES).map((t) => t.description).join('; '),
  devices: Object.values(TOPOLOGIES).flatMap((t) => t.devices),
  numVfs: Math.max(0, ...Object.values(TOPOLOGIES).map((t) => t.numVfs ?? 0)),
};
