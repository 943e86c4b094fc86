export * from './rabbitmq-management.js';
export * from './service-process.js';
export * from './test-environment.js';
export * from './wait-for.js';
export * from './messaging-rig.js';
export * from './simulator-process.js';
export * from './event-tap.js';
export * from './admin-broker.js';
