export * from './metric-names';
export * from './fleet-stats';
