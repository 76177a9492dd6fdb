export * from './model';
export * from './bdf';
export * from './config-space';
export * from './sysfs-error';
export * from './sysfs-reader';
export * from './sysfs-writer';
export * from './topology-json';
export * from './topology-builder';
