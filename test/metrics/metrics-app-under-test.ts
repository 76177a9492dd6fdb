// eslint-disable-next-line no-restricted-imports -- the rule guards libs/; tests drive the app in-process
export { createMetricsApp, type MetricsApp } from '../../apps/metrics/src/metrics-app';
