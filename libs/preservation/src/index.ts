export * from './reason';
export * from './preservation-set';
export * from './acs-path';
export * from './acs-quirks';
export * from './indexed-host';
export * from './rules';
export * from './plan';
