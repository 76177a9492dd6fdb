import type { AcsState, Bdf, HostTopology, PciDevice, PcieType } from './model';

const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** ACS as Linux leaves it on a capable port: SV, RR, CR and UF enabled (pci_std_enable_acs). */
export const ACS_CAPABILITY_FULL = 0x5f;
export const ACS_CONTROL_DEFAULT = 0x1d;
export const ACS_BITS = { SV: 0x01, RR: 0x04, CR: 0x08, UF: 0x10 } as const;

export const NO_ACS: AcsState = Object.freeze({ state: 'absent' }) as AcsState;
export const FULL_ACS: AcsState = Object.freeze({
  state: 'present',
  capability: ACS_CAPABILITY_FULL,
  control: ACS_CONTROL_DEFAULT,
}) as AcsState;

export interface DeviceSpec {
  vendor: number;
  device: number;
  class: number;
  driver: string | null;
  pcieType: PcieType;
  acs: AcsState;
  multifunction?: boolean;
}

/** Which IOMMU group a device joins; numbers are handed out later in BDF order, as the kernel probes. */
export type GroupHandle = number;
export const NO_GROUP: GroupHandle = -1;

/** Where a device sits: its bus, devfn, and the bridges above it (nearest first). */
export interface Slot {
  bus: number;
  devfn: number;
  parents: Bdf[];
}

/** Accumulates one synthetic host's devices and their group handles, then sorts and numbers them. */
export class HostBuilder {
  private readonly devices: PciDevice[] = [];
  private readonly handles: GroupHandle[] = [];
  private nextHandle = 0;
  private nextBus = 1;
  // Root ports from bus 00 slot 01 upward; more root buses (like a Xeon's PCIe stacks) when it is full.
  private rootBus = 0;
  private nextRootSlot = 1;
  private nextFillerDevfn = 0x10 << 3;
  private fillerSlotStart = -1;

  constructor(readonly budget: number) {}

  get size(): number {
    return this.devices.length;
  }

  get remaining(): number {
    return this.budget - this.devices.length;
  }

  newGroup(): GroupHandle {
    return this.nextHandle++;
  }

  secondaryBus(): number {
    if (this.nextBus > 0xff) throw new RangeError('synthetic host ran out of PCI bus numbers');
    return this.nextBus++;
  }

  /** A fresh root-bus slot for root ports; returns function 0's place (functions 1-7 are the caller's). */
  rootSlot(): { bus: number; devfn: number } {
    if (this.nextRootSlot > (this.rootBus === 0 ? 0x0f : 0x1f)) {
      this.rootBus = this.secondaryBus();
      this.nextRootSlot = 0;
    }
    return { bus: this.rootBus, devfn: this.nextRootSlot++ << 3 };
  }

  add(bus: number, devfn: number, parents: Bdf[], spec: DeviceSpec, group: GroupHandle): PciDevice {
    const device: PciDevice = {
      bdf: formatGeneratedBdf(bus, devfn),
      vendor: spec.vendor,
      device: spec.device,
      class: spec.class,
      driver: spec.driver,
      parentChain: parents,
      isVirtfn: false,
      physfn: null,
      isPhysfn: false,
      sriovTotalVfs: 0,
      virtfns: [],
      iommuGroup: null,
      pcieType: spec.pcieType,
      multifunction: spec.multifunction === true,
      acs: spec.acs,
    };
    this.devices.push(device);
    this.handles.push(group);
    return device;
  }

  /**
   * A chipset function integrated in the root complex (bus 00, slots 10-1f). Functions of one slot
   * have no ACS, so the kernel puts a whole slot in one group.
   */
  addChipsetFunction(spec: DeviceSpec, grouped: boolean): PciDevice {
    const devfn = this.nextFillerDevfn++;
    if (devfn > 0xff) throw new RangeError('synthetic host ran out of chipset slots');
    const firstOfSlot = (devfn & 7) === 0;
    if (firstOfSlot) this.fillerSlotStart = this.devices.length;
    const group = grouped ? (firstOfSlot ? this.newGroup() : this.handles[this.fillerSlotStart]) : NO_GROUP;
    const device = this.add(0, devfn, [], spec, group);
    if (!firstOfSlot) {
      for (let i = this.fillerSlotStart; i < this.devices.length; i++) this.devices[i].multifunction = true;
    }
    return device;
  }

  build(): HostTopology {
    const count = this.devices.length;
    const order: number[] = new Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
    const devices = this.devices;
    order.sort((a, b) => (devices[a].bdf < devices[b].bdf ? -1 : 1));
    const numbers = new Map<GroupHandle, number>();
    const iommuGroups: Record<string, Bdf[]> = {};
    const sorted: PciDevice[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const device = devices[order[i]];
      sorted[i] = device;
      const handle = this.handles[order[i]];
      if (handle === NO_GROUP) continue;
      let number = numbers.get(handle);
      if (number === undefined) {
        number = numbers.size;
        numbers.set(handle, number);
        iommuGroups[number] = [];
      }
      device.iommuGroup = number;
      iommuGroups[number].push(device.bdf);
    }
    return { devices: sorted, iommuGroups };
  }
}

export function formatGeneratedBdf(bus: number, devfn: number): Bdf {
  return '0000:' + HEX2[bus] + ':' + HEX2[devfn >> 3] + '.' + (devfn & 7);
}
