export * from './broker/broker-connection.js';
export * from './broker/broker.module.js';
