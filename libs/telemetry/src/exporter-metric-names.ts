/**
 * Metrics the exporter adds beside design 4.4, for dashboards and alerts. None carries a host label:
 * per-rollout labels exist only for active rollouts, so their number stays small.
 */
export const EXPORTER_METRICS = {
  queueJobs: 'luo_fleet_queue_jobs',
  rolloutHosts: 'luo_fleet_rollout_hosts',
  rolloutMaxConcurrent: 'luo_fleet_rollout_max_concurrent',
  rolloutMaxFailures: 'luo_fleet_rollout_max_failures',
  rolloutFailures: 'luo_fleet_rollout_failures',
  redisUp: 'luo_fleet_redis_up',
  workers: 'luo_fleet_workers',
  oldestStepAgeSeconds: 'luo_fleet_oldest_step_age_seconds',
} as const;
