/** Metric names and buckets: design 4.4, fixed contract shared by the exporter, dashboards and alerts. */
export const METRICS = {
  handoversTotal: 'luo_fleet_handovers_total',
  deviceValidationsTotal: 'luo_fleet_device_validations_total',
  vmValidationsTotal: 'luo_fleet_vm_validations_total',
  vmDisruptionsTotal: 'luo_fleet_vm_disruptions_total',
  phaseDurationSeconds: 'luo_fleet_phase_duration_seconds',
  blackoutSeconds: 'luo_fleet_blackout_seconds',
  hostsInFlight: 'luo_fleet_hosts_in_flight',
} as const;

/** Phase durations span a 1 ms simulated step to a 10-minute VMM preserve. */
export const PHASE_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Blackout budgets are usually stated in seconds; finer buckets below 2 s. */
export const BLACKOUT_BUCKETS_SECONDS = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 120];
