export * from './access-policy.js';
export * from './access.guards.js';
export * from './access.module.js';
export * from './operator-credentials.js';
export * from './principal.js';
export * from './signed-webhook.guard.js';
