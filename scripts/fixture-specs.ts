/**
 * The sysfs fixture hosts under test/fixtures/, as readable specs. `npm run fixtures` writes them;
 * test/fixtures.spec.ts checks the committed trees still equal what these specs produce.
 */
import { rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ACS_ABSENT, ACS_ENABLED, acsWithout, type DeviceSpec, type HostTopology, TopologyBuilder, type Vm, writeSysfsTree } from '@luo-fleet/topology';

export interface FixtureSpec {
  name: string;
  /** What the host looks like and why it is here. */
  about: string;
  /** The plan expected with the default profile, and with --strict-acs, for the README. */
  expect: string;
  configSize?: 64 | 256 | 4096;
  topology(): HostTopology;
  /** The host's VMs, written beside the tree as `vms.json` for `plan --vms`, with what they show. */
  vms?: { about: string; list: Vm[] };
}

/** A VM as the fixtures write it: shmem memfd memory, no balloon or virtio-mem unless said. */
function vm(id: string, devices: string[], facts: Partial<Vm> = {}): Vm {
  return { id, devices, memory: { backing: 'memfd-shmem', sizeMiB: 16384 }, balloon: false, virtioMem: false, migratable: true, ...facts };
}
const hugetlb = (sizeMiB: number): Vm['memory'] => ({ backing: 'memfd-hugetlb', sizeMiB });

// Device kinds seen on real hypervisors (vendor/device IDs from the PCI ID database).
const HOST_BRIDGE: DeviceSpec = { vendor: 0x8086, device: 0x09a2, class: 0x060000, pcieType: 'rc_integrated_endpoint' };
const ROOT_PORT: DeviceSpec = { vendor: 0x8086, device: 0x347a, class: 0x060400, pcieType: 'root_port', driver: 'pcieport', acs: ACS_ENABLED };
const PCH_ROOT_PORT: DeviceSpec = { vendor: 0x8086, device: 0xa190, class: 0x060400, pcieType: 'root_port', driver: 'pcieport', acs: ACS_ABSENT };
const SWITCH_UP: DeviceSpec = { vendor: 0x10b5, device: 0x8747, class: 0x060400, pcieType: 'upstream_port', driver: 'pcieport' };
const SWITCH_DOWN: DeviceSpec = { vendor: 0x10b5, device: 0x8747, class: 0x060400, pcieType: 'downstream_port', driver: 'pcieport', acs: ACS_ENABLED };
const NVME: DeviceSpec = { vendor: 0x144d, device: 0xa80a, class: 0x010802, driver: 'nvme' };
const GPU: DeviceSpec = { vendor: 0x10de, device: 0x20b0, class: 0x030200, driver: 'vfio-pci' };
const CX6_PF: DeviceSpec = { vendor: 0x15b3, device: 0x101b, class: 0x020000, driver: 'mlx5_core', sriovTotalVfs: 8 };
const CX6_VF: DeviceSpec = { vendor: 0x15b3, device: 0x101c, class: 0x020000, driver: 'vfio-pci' };
const E810_PF: DeviceSpec = { vendor: 0x8086, device: 0x1592, class: 0x020000, driver: 'vfio-pci', sriovTotalVfs: 128 };
const BCM5720: DeviceSpec = { vendor: 0x14e4, device: 0x165f, class: 0x020000, driver: 'tg3', multifunction: true };
const PCIE_TO_PCI: DeviceSpec = { vendor: 0x1b21, device: 0x1080, class: 0x060400, pcieType: 'pcie_to_pci_bridge' };
const PCI_BRIDGE: DeviceSpec = { vendor: 0x12d8, device: 0xe110, class: 0x060400, pcieType: 'conventional', acs: { state: 'unknown' } };
const SERIAL_CARD: DeviceSpec = { vendor: 0x1415, device: 0x9501, class: 0x070002, pcieType: 'conventional', acs: { state: 'unknown' } };
const VMD: DeviceSpec = { vendor: 0x8086, device: 0x28c0, class: 0x010400, pcieType: 'rc_integrated_endpoint', driver: 'vmd' };
const LPT_PCH_ROOT_PORT: DeviceSpec = { vendor: 0x8086, device: 0x8c10, class: 0x060400, pcieType: 'root_port', driver: 'pcieport', acs: ACS_ABSENT };
const X520: DeviceSpec = { vendor: 0x8086, device: 0x10fb, class: 0x020000, driver: 'ixgbe', multifunction: true, acs: ACS_ABSENT };
const PCH: DeviceSpec[] = [
  { vendor: 0x8086, device: 0xa1c1, class: 0x060100, multifunction: true, pcieType: 'rc_integrated_endpoint' }, // LPC
  { vendor: 0x8086, device: 0xa1a1, class: 0x058000, pcieType: 'rc_integrated_endpoint' }, // PMC
  { vendor: 0x8086, device: 0xa1a3, class: 0x0c0500, driver: 'i801_smbus', pcieType: 'rc_integrated_endpoint' }, // SMBus
  { vendor: 0x8086, device: 0xa1a4, class: 0x0c8000, pcieType: 'rc_integrated_endpoint' }, // SPI
];

const vfio = (spec: DeviceSpec): DeviceSpec => ({ ...spec, driver: 'vfio-pci' });

export const FIXTURES: FixtureSpec[] = [
  {
    name: 'singleton-endpoint',
    about: 'An NVMe drive bound to vfio-pci alone in its IOMMU group, behind a root port with ACS enabled.',
    expect: 'default: 0000:01:00.0 preservable. strict: preservable.',
    topology() {
      const b = new TopologyBuilder();
      b.add('0000:00:00.0', { ...HOST_BRIDGE, group: 0 });
      const rp = b.add('0000:00:01.0', { ...ROOT_PORT, group: 1 });
      b.add('0000:01:00.0', { ...vfio(NVME), parent: rp, group: 2 });
      return b.build();
    },
  },
  {
    name: 'shared-root-ports',
    about: 'Two PCH root ports without ACS share group 5 with the NVMe drive behind one of them.',
    expect: 'default: 0000:02:00.0 GROUP_NOT_SINGLETON (shares group 5 with 0000:00:1c.0, 0000:00:1c.4). strict: also ACS_PATH_NOT_ENABLED at 0000:00:1c.4.',
    topology() {
      const b = new TopologyBuilder();
      b.add('0000:00:00.0', { ...HOST_BRIDGE, group: 0 });
      b.add('0000:00:1c.0', { ...PCH_ROOT_PORT, multifunction: true, group: 5 });
      const rp = b.add('0000:00:1c.4', { ...PCH_ROOT_PORT, multifunction: true, group: 5 });
      b.add('0000:02:00.0', { ...vfio(NVME), parent: rp, group: 5 });
      return b.build();
    },
  },
  {
    name: 'sriov-pf-vfs',
    about: 'A ConnectX-6 PF (mlx5_core) with 2 of 8 VFs enabled; the VFs are bound to vfio-pci, each in its own group.',
    expect: 'default: 0000:3b:00.2 and 0000:3b:00.3 IS_VIRTFN; --devices 0000:3b:00.0 gives IS_PHYSFN.',
    vms: {
      about: 'each VF is assigned to a small VM: both DEVICE_NOT_PRESERVABLE (IS_VIRTFN).',
      list: [
        vm('nic-vm-1', ['0000:3b:00.2'], { memory: { backing: 'memfd-shmem', sizeMiB: 2048 } }),
        vm('nic-vm-2', ['0000:3b:00.3'], { memory: { backing: 'memfd-shmem', sizeMiB: 2048 } }),
      ],
    },
    topology() {
      const b = new TopologyBuilder();
      const rp = b.add('0000:3a:00.0', { ...ROOT_PORT, group: 20 });
      const pf = b.add('0000:3b:00.0', { ...CX6_PF, parent: rp, group: 21 });
      b.add('0000:3b:00.2', { ...CX6_VF, physfn: pf, group: 22 });
      b.add('0000:3b:00.3', { ...CX6_VF, physfn: pf, group: 23 });
      return b.build();
    },
  },
  {
    name: 'sriov-pf-no-vfs',
    about: 'An E810 PF bound to vfio-pci in a singleton group with SR-IOV offered (128 VFs) but none enabled: the kernel still sets is_physfn.',
    expect: 'default: 0000:5e:00.0 IS_PHYSFN. strict: IS_PHYSFN.',
    topology() {
      const b = new TopologyBuilder();
      const rp = b.add('0000:5d:00.0', { ...ROOT_PORT, group: 30 });
      b.add('0000:5e:00.0', { ...E810_PF, parent: rp, group: 31 });
      return b.build();
    },
  },
  {
    name: 'no-iommu-group',
    about: 'A host booted with the IOMMU off: no kernel/iommu_groups at all, an NVMe drive bound to vfio-pci (no-IOMMU mode).',
    expect: 'default: 0000:01:00.0 NO_IOMMU_GROUP.',
    topology() {
      const b = new TopologyBuilder();
      b.add('0000:00:00.0', { ...HOST_BRIDGE });
      const rp = b.add('0000:00:01.0', { ...ROOT_PORT });
      b.add('0000:01:00.0', { ...vfio(NVME), parent: rp });
      return b.build();
    },
  },
  {
    name: 'gpu-behind-switch',
    about:
      'A GPU (vfio-pci, singleton group) behind a PLX switch; the downstream port above it has ACS but Upstream Forwarding disabled.',
    expect: 'default: 0000:19:00.0 preservable. strict: ACS_PATH_NOT_ENABLED naming 0000:18:00.0.',
    vms: {
      about:
        'the GPU goes to a VM with virtio-mem (IOAS_MUTABLE; strict: also DEVICE_NOT_PRESERVABLE); a device-less VM on file-backed memory (MEMORY_NOT_MEMFD) and one with a balloon but no device (preservable).',
      list: [
        vm('train-1', ['0000:19:00.0'], { virtioMem: true }),
        vm('build-1', [], { memory: { backing: 'file', sizeMiB: 4096 }, migratable: false }),
        vm('web-1', [], { memory: { backing: 'memfd-shmem', sizeMiB: 4096 }, balloon: true }),
      ],
    },
    topology() {
      const b = new TopologyBuilder();
      const rp = b.add('0000:16:00.0', { ...ROOT_PORT, group: 40 });
      const up = b.add('0000:17:00.0', { ...SWITCH_UP, parent: rp, group: 41 });
      const down = b.add('0000:18:00.0', { ...SWITCH_DOWN, acs: acsWithout('UF'), parent: up, group: 42 });
      b.add('0000:19:00.0', { ...GPU, parent: down, group: 43 });
      return b.build();
    },
  },
  {
    name: 'multifunction-no-acs',
    about: 'A dual-port BCM5720 (multifunction, no ACS) whose two functions share group 50; both bound to vfio-pci.',
    expect: 'default: both GROUP_NOT_SINGLETON. strict: also ACS_PATH_NOT_ENABLED at the function itself.',
    topology() {
      const b = new TopologyBuilder();
      const rp = b.add('0000:00:1d.0', { ...ROOT_PORT, group: 49 });
      b.add('0000:04:00.0', { ...vfio(BCM5720), parent: rp, group: 50 });
      b.add('0000:04:00.1', { ...vfio(BCM5720), parent: rp, group: 50 });
      return b.build();
    },
  },
  {
    name: 'conventional-bridge',
    about:
      'A conventional PCI serial card (vfio-pci) behind a conventional PCI-to-PCI bridge behind a PCIe-to-PCI bridge: all three share group 60 (conventional PCI cannot isolate). Conventional devices have 256-byte config space.',
    expect: 'default: 0000:03:00.0 GROUP_NOT_SINGLETON. strict: also ACS_PATH_NOT_ENABLED at 0000:03:00.0 (conventional PCI has no ACS).',
    topology() {
      const b = new TopologyBuilder();
      const rp = b.add('0000:00:1c.0', { ...ROOT_PORT, group: 59 });
      const toPci = b.add('0000:01:00.0', { ...PCIE_TO_PCI, parent: rp, group: 60 });
      const bridge = b.add('0000:02:00.0', { ...PCI_BRIDGE, parent: toPci, group: 60 });
      b.add('0000:03:00.0', { ...vfio(SERIAL_CARD), parent: bridge, group: 60 });
      return b.build();
    },
  },
  {
    name: 'wide-domain',
    about: 'A VMD host: the VMD controller in domain 0000 and an NVMe drive (vfio-pci, singleton group) in domain 10000 behind a root port.',
    expect: 'default: 10000:01:00.0 preservable (its BDF keeps the 5-digit domain). strict: preservable.',
    topology() {
      const b = new TopologyBuilder();
      b.add('0000:00:00.0', { ...HOST_BRIDGE, group: 0 });
      b.add('0000:00:0e.0', { ...VMD, group: 1 });
      const rp = b.add('10000:00:01.0', { ...ROOT_PORT, group: 2 });
      b.add('10000:01:00.0', { ...vfio(NVME), parent: rp, group: 3 });
      return b.build();
    },
  },
  {
    name: 'short-config',
    about: 'Like singleton-endpoint, but every config file is the 64 bytes an unprivileged reader sees: PCIe type and ACS are unknown.',
    expect: 'default: 0000:01:00.0 preservable. strict: ACS_PATH_NOT_ENABLED (ACS cannot be shown enabled).',
    configSize: 64,
    topology() {
      const b = new TopologyBuilder();
      const unknown = { pcieType: 'unknown', acs: { state: 'unknown' } } as const;
      b.add('0000:00:00.0', { ...HOST_BRIDGE, ...unknown, group: 0 });
      const rp = b.add('0000:00:01.0', { ...ROOT_PORT, ...unknown, group: 1 });
      b.add('0000:01:00.0', { ...vfio(NVME), ...unknown, parent: rp, group: 2 });
      return b.build();
    },
  },
  {
    name: 'sample-host',
    about:
      'A realistic 64-device hypervisor: host bridge and PCH (shared group), 8 NVMe drives (6 on vfio-pci), 4 GPUs behind a PLX switch (one downstream port missing ACS UF), a ConnectX-6 PF with 4 VFs on vfio-pci, an E810 PF on vfio-pci with no VFs, shared PCH root ports with a vfio-pci NIC, a multifunction NIC without ACS, a conventional PCI bridge with a serial card, and a VMD domain 10000.',
    expect:
      'default (every vfio-pci device): NVMe and GPUs preservable; VFs IS_VIRTFN; E810 IS_PHYSFN; NIC behind PCH ports and serial card GROUP_NOT_SINGLETON. strict: GPU 0000:b6:00.0 also ACS_PATH_NOT_ENABLED at 0000:b3:08.0.',
    vms: {
      about:
        'GPU VMs on hugetlb memory (MEMORY_HUGETLB) and one on shmem (preservable; strict: DEVICE_NOT_PRESERVABLE), ConnectX-6 VFs on small VMs (DEVICE_NOT_PRESERVABLE), a database VM with an NVMe drive and a balloon (IOAS_MUTABLE), NVMe VMs that ride the update, a legacy VM on anonymous memory (MEMORY_NOT_MEMFD); the E810 PF, two VFs, the NIC behind the PCH ports, the serial card, a GPU and two NVMe drives on vfio-pci are held by no VM.',
      list: [
        vm('gpu-train-1', ['0000:b4:00.0'], { memory: hugetlb(262144), migratable: false }),
        vm('gpu-train-2', ['0000:b5:00.0'], { memory: hugetlb(262144), migratable: false }),
        vm('gpu-infer-1', ['0000:b6:00.0'], { memory: { backing: 'memfd-shmem', sizeMiB: 65536 }, migratable: false }),
        vm('nic-vm-1', ['0000:3b:00.2'], { memory: { backing: 'memfd-shmem', sizeMiB: 2048 } }),
        vm('nic-vm-2', ['0000:3b:00.3'], { memory: { backing: 'memfd-shmem', sizeMiB: 2048 } }),
        vm('db-1', ['0000:17:00.0'], { balloon: true, labels: { team: 'storage' } }),
        vm('store-1', ['0000:18:00.0', '0000:19:00.0']),
        vm('store-2', ['0000:1a:00.0']),
        vm('legacy-1', [], { memory: { backing: 'anonymous', sizeMiB: 8192 } }),
      ],
    },
    topology: sampleHost,
  },
  {
    name: 'pch-root-port-quirk',
    about:
      'An NVMe drive (vfio-pci, singleton group) behind a Lynx Point-H PCH root port (8086:8c10) that has no ACS capability: the kernel isolates it only through the enable-ACS quirk pci_quirk_enable_intel_pch_acs.',
    expect:
      'default: 0000:02:00.0 preservable. --profile pci-liveupdate-v9 (and acs-carried): ACS_PATH_NOT_ENABLED naming the root port 0000:00:1c.0.',
    topology() {
      const b = new TopologyBuilder();
      b.add('0000:00:00.0', { ...HOST_BRIDGE, group: 0 });
      const rp = b.add('0000:00:1c.0', { ...LPT_PCH_ROOT_PORT, group: 70 });
      b.add('0000:02:00.0', { ...vfio(NVME), parent: rp, group: 71 });
      return b.build();
    },
  },
  {
    name: 'mf-endpoint-quirk',
    about:
      'A dual-port Intel X520 (82599, 8086:10fb, multifunction, no ACS capability) on vfio-pci behind an ACS root port; the pci_quirk_mf_endpoint_acs quirk puts each function in its own group.',
    expect:
      'default: both preservable. --profile pci-liveupdate-v9: both preservable (no enable-ACS quirk). --profile acs-carried: ACS_PATH_NOT_ENABLED.',
    topology() {
      const b = new TopologyBuilder();
      const rp = b.add('0000:80:02.0', { ...ROOT_PORT, group: 80 });
      b.add('0000:81:00.0', { ...vfio(X520), parent: rp, group: 81 });
      b.add('0000:81:00.1', { ...vfio(X520), parent: rp, group: 82 });
      return b.build();
    },
  },
];

function sampleHost(): HostTopology {
  const b = new TopologyBuilder();
  let group = 0;
  const next = () => group++;

  // Socket 0 root complex: host bridge, PCH functions (one group, as on real C620 chipsets).
  b.add('0000:00:00.0', { ...HOST_BRIDGE, group: next() });
  const pchGroup = next();
  ['0000:00:1f.0', '0000:00:1f.2', '0000:00:1f.4', '0000:00:1f.5'].forEach((bdf, i) => b.add(bdf, { ...PCH[i], group: pchGroup }));

  // PCH root ports without ACS: shared group with a vfio-pci NIC behind one of them.
  const pchPorts = next();
  b.add('0000:00:1c.0', { ...PCH_ROOT_PORT, multifunction: true, group: pchPorts });
  const pchRp = b.add('0000:00:1c.4', { ...PCH_ROOT_PORT, multifunction: true, group: pchPorts });
  b.add('0000:03:00.0', { vendor: 0x8086, device: 0x1533, class: 0x020000, driver: 'vfio-pci', parent: pchRp, group: pchPorts });

  // Conventional PCI: PCIe-to-PCI bridge, conventional bridge, serial card.
  const legacyRp = b.add('0000:00:1d.0', { ...ROOT_PORT, group: next() });
  const legacy = next();
  const toPci = b.add('0000:04:00.0', { ...PCIE_TO_PCI, parent: legacyRp, group: legacy });
  const pciBridge = b.add('0000:05:00.0', { ...PCI_BRIDGE, parent: toPci, group: legacy });
  b.add('0000:06:00.0', { ...vfio(SERIAL_CARD), parent: pciBridge, group: legacy });

  // Multifunction management NIC without ACS (host-owned, tg3).
  const mgmtRp = b.add('0000:00:1d.1', { ...ROOT_PORT, group: next() });
  const mgmt = next();
  b.add('0000:07:00.0', { ...BCM5720, parent: mgmtRp, group: mgmt });
  b.add('0000:07:00.1', { ...BCM5720, parent: mgmtRp, group: mgmt });

  // VMD controller and its domain with two host-owned NVMe drives.
  b.add('0000:00:0e.0', { ...VMD, group: next() });
  for (const port of ['10000:00:01.0', '10000:00:02.0']) {
    const rp = b.add(port, { ...ROOT_PORT, group: next() });
    b.add(port.replace(/^10000:00:0(\d)\.0$/, '10000:0$1:00.0'), { ...NVME, parent: rp, group: next() });
  }

  // Eight NVMe drives, one per root port; six of them handed to VMs.
  for (let i = 0; i < 8; i++) {
    const bus = (0x17 + i).toString(16).padStart(2, '0');
    const rp = b.add(`0000:16:0${i}.0`, { ...ROOT_PORT, group: next() });
    b.add(`0000:${bus}:00.0`, { ...(i < 6 ? vfio(NVME) : NVME), parent: rp, group: next() });
  }

  // ConnectX-6 PF with 4 VFs on vfio-pci.
  const nicRp = b.add('0000:3a:00.0', { ...ROOT_PORT, group: next() });
  const pf = b.add('0000:3b:00.0', { ...CX6_PF, parent: nicRp, group: next() });
  for (let i = 0; i < 4; i++) b.add(`0000:3b:00.${i + 2}`, { ...CX6_VF, physfn: pf, group: next() });

  // E810 PF given to a VM whole, VFs never enabled.
  const e810Rp = b.add('0000:5d:00.0', { ...ROOT_PORT, group: next() });
  b.add('0000:5e:00.0', { ...E810_PF, parent: e810Rp, group: next() });

  // Socket 1: four GPUs behind a PLX switch; one downstream port leaves Upstream Forwarding off.
  const gpuRp = b.add('0000:b0:00.0', { ...ROOT_PORT, group: next() });
  const up = b.add('0000:b2:00.0', { ...SWITCH_UP, parent: gpuRp, group: next() });
  ['0000:b3:00.0', '0000:b3:04.0', '0000:b3:08.0', '0000:b3:0c.0'].forEach((port, i) => {
    const down = b.add(port, { ...SWITCH_DOWN, ...(i === 2 ? { acs: acsWithout('UF') } : {}), parent: up, group: next() });
    b.add(`0000:${(0xb4 + i).toString(16)}:00.0`, { ...GPU, parent: down, group: next() });
  });

  // Empty hot-plug root ports, as a real board has, bring the host to 64 devices.
  const SAMPLE_HOST_SIZE = 64;
  for (let i = b.build().devices.length; i < SAMPLE_HOST_SIZE; i++) b.add(`0000:d7:${(i % 32).toString(16).padStart(2, '0')}.0`, { ...ROOT_PORT, group: next() });
  return b.build();
}

export function fixturesReadme(): string {
  const lines = [
    '# sysfs fixture hosts',
    '',
    'Generated by `npm run fixtures` from `scripts/fixture-specs.ts`; do not edit by hand (test/cli/fixtures-drift.spec.ts',
    'fails when these trees and the specs disagree). Each directory is a sysfs root: `bus/pci/devices/*` are relative links',
    'into `devices/pci<domain>:<bus>/...`, groups are under `kernel/iommu_groups/`. Plan one with',
    '`npx luo-fleet plan --sysfs test/fixtures/<name> [--strict-acs] [--json]`.',
    '',
  ];
  for (const f of FIXTURES) {
    lines.push(`## ${f.name}`, '', f.about, '', `Expected: ${f.expect}`, '');
    if (f.vms) lines.push(`VMs (\`vms.json\`, for \`--vms\`): ${f.vms.about}`, '');
  }
  return lines.join('\n');
}

/** Writes every fixture host (replacing earlier copies) and the README into `dir`. */
export function writeFixtures(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const f of FIXTURES) {
    const out = join(dir, f.name);
    rmSync(out, { recursive: true, force: true });
    writeSysfsTree(out, f.topology(), f.configSize ? { configSize: f.configSize } : {});
    if (f.vms) writeFileSync(join(out, 'vms.json'), `${JSON.stringify(f.vms.list, null, 2)}\n`);
  }
  writeFileSync(join(dir, 'README.md'), fixturesReadme());
}
