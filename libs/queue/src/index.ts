export * from './redis-connection';
export * from './keys';
export * from './host-lease';
export * from './redis-handover-journal';
export * from './handover-job';
