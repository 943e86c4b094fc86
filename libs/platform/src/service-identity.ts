import { hostname } from 'node:os';

/** The five orderflow services, by the short name used in queues, sources and connection names. */
export const SERVICE_NAMES = ['order', 'payment', 'warehouse', 'logistics', 'saga'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/**
 * Who this process is: the service it belongs to and which replica. The instance name appears in logs,
 * in the broker's connection list (`payment@pod-7f9c`) and in PostgreSQL's `application_name`.
 */
export class ServiceIdentity {
  readonly instance: string;

  constructor(
    readonly name: ServiceName,
    readonly version: string,
    host: string = hostname(),
  ) {
    this.instance = `${name}@${host}`;
  }
}
