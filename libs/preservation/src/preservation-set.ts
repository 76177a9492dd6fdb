import type { Bdf, Vm } from '@luo-fleet/topology';
import type { DeviceReason, VmReason } from './reason';

export interface DeviceVerdict {
  bdf: Bdf;
  preservable: boolean;
  /** Every reason that applies, in design 4.1 order; the first is what the kernel would return. */
  reasons: DeviceReason[];
  iommuGroup: number | null;
  /** Every member of the device's IOMMU group, itself included; may be the topology's own array: do not edit. */
  groupMembers: Bdf[];
  /** Human-readable detail per reason, e.g. which other devices share the group, which bridge breaks ACS. */
  details: Partial<Record<DeviceReason, string>>;
  /** Strict mode: the first device on the ACS path (device itself, then bridges upward) that fails. */
  acsBlocker?: Bdf;
}

/** Whether one VM can ride a Live Update (design 4.5). */
export interface VmVerdict {
  id: string;
  preservable: boolean;
  /** Every reason that applies, in design 4.5 order. */
  reasons: VmReason[];
  /** Its assigned devices, in the VM's order. */
  devices: Bdf[];
  /** The devices behind DEVICE_NOT_PRESERVABLE with their design 4.1 codes, in the VM's order. */
  rejectedDevices: Array<{ bdf: Bdf; reasons: DeviceReason[] }>;
  /** Human-readable detail per reason. */
  details: Partial<Record<VmReason, string>>;
}

/** VMs by verdict: one host's, or added up over a fleet or rollout. */
export interface VmCounts {
  total: number;
  preservable: number;
  rejected: number;
  /** VMs per reason; a VM with several reasons counts under each, since each is its own thing to change. */
  byReason: Partial<Record<VmReason, number>>;
}

export interface VmSummary extends VmCounts {
  /** What would have to change, one line per reason in design 4.5 order, e.g. "3 VMs use hugetlb memory". */
  changes: string[];
}

export interface PlanOptions {
  /** Rule profile name; `singleton-group` (the seed kernel's rules) by default. */
  profile?: string;
  /** Adds the ACS path rule (ACS_PATH_NOT_ENABLED). */
  strictAcs?: boolean;
  /**
   * The host's VMs: device verdicts then also cover every device a VM holds (after the requested
   * ones, each once), and the set gains one verdict per VM.
   */
  vms?: readonly Vm[];
}

export interface PreservationSet {
  profile: string;
  strictAcs: boolean;
  /** One verdict per requested device, in request order; then, with VMs, each VM device not requested, in VM order. */
  devices: DeviceVerdict[];
  /** One verdict per VM in the given order; present only when VMs were given. */
  vms?: VmVerdict[];
  summary: {
    requested: number;
    preservable: number;
    rejected: number;
    /** Live Update may go ahead only when every requested device can be preserved. */
    eligible: boolean;
    /** Count of rejected devices by first reason. */
    byReason: Partial<Record<DeviceReason, number>>;
    /** Present only when VMs were given. */
    vms?: VmSummary;
  };
}
