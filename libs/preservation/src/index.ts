export * from './reason';
export * from './preservation-set';
