export * from './redis-connection';
export * from './redis-env';
export * from './coalesced-writes';
export * from './keys';
export * from './lua-script';
export * from './turn-batch';
