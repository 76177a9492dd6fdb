export * from './metric-names';
export * from './fleet-stats';
export * from './exporter-metric-names';
export * from './snapshot-histogram';
