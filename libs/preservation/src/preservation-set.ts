import type { Bdf } from '@luo-fleet/topology';
import type { DeviceReason } from './reason';

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

export interface PlanOptions {
  /** Rule profile name; `singleton-group` (the seed kernel's rules) by default. */
  profile?: string;
  /** Adds the ACS path rule (ACS_PATH_NOT_ENABLED). */
  strictAcs?: boolean;
}

export interface PreservationSet {
  profile: string;
  strictAcs: boolean;
  /** One verdict per requested device, in request order. */
  devices: DeviceVerdict[];
  summary: {
    requested: number;
    preservable: number;
    rejected: number;
    /** Live Update may go ahead only when every requested device can be preserved. */
    eligible: boolean;
    /** Count of rejected devices by first reason. */
    byReason: Partial<Record<DeviceReason, number>>;
  };
}
