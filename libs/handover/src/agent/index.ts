export * from './agent-wire';
export * from './request-signature';
export * from './agent-host-driver';
export * from './agent-tls';
export * from './agent-tls-files';
export * from './agent-address';
