/**
 * What the messaging core logs through: structured lines, one object each. The services pass their Nest logger
 * (nestjs-pino); rigs and the benchmark pass anything with these methods. `debug` is optional: the services have it
 * (one line per message handled, off at the default level), a rig need not.
 */
export interface MessagingLogger {
  debug?(message: object): void;
  log(message: object): void;
  warn(message: object): void;
  error(message: object): void;
}
