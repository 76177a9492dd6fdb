/** Device verdict reason codes (design 4.1), in the order they are reported. */
export const DEVICE_REASONS = [
  'NOT_FOUND',
  'IS_VIRTFN',
  'IS_PHYSFN',
  'NO_IOMMU_GROUP',
  'GROUP_NOT_SINGLETON',
  'ACS_PATH_NOT_ENABLED',
  'TOPOLOGY_DRIFT',
  'NOT_INCOMING',
] as const;
export type DeviceReason = (typeof DEVICE_REASONS)[number];

/** VM verdict reason codes (design 4.5), in the order they are reported. */
export const VM_REASONS = ['DEVICE_NOT_PRESERVABLE', 'MEMORY_NOT_MEMFD', 'MEMORY_HUGETLB', 'IOAS_MUTABLE'] as const;
export type VmReason = (typeof VM_REASONS)[number];

/** Host-level reason codes (design 4.1). */
export const HOST_REASONS = ['LUO_DISABLED', 'HOST_UNREACHABLE'] as const;
export type HostReason = (typeof HOST_REASONS)[number];

/** Where a verdict was made; `luo_fleet_device_validations_total{stage}`. */
export type ValidationStage = 'plan' | 'precheck' | 'retrieve';
