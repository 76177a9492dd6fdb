export * from './rollout';
export * from './limits';
export * from './admission-order';
export * from './schedule-prediction';
export * from './rollout-transitions';
export * from './strategy-choice';
export * from './evacuation-targets';
