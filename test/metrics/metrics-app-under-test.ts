export { createMetricsApp, type MetricsApp } from '../../apps/metrics/src/metrics-app';
