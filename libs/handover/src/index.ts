export * from './phases';
export * from './host-driver';
export * from './handover-plan';
export * from './drift';
export * from './journal';
export * from './handover-machine';
export * from './agent';
export * from './handover-order';
