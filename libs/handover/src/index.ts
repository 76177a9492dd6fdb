export * from './phases';
export * from './host-driver';
