export { createMetricsApp, type MetricsApp } from './metrics-app';
export { loadMetricsConfig, type MetricsAppOptions } from './metrics-config';
export { FleetExporter } from './fleet/fleet-exporter';
