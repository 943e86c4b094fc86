/**
 * A message type: its wire name (`<domain>.<name>.v<N>`), whether it is a command or an event, and the runtime
 * schema its `data` must satisfy on publish and on consume. A released version never changes: a test holds every
 * schema against `schemas.snapshot.json`, so an incompatible change has to become a new version.
 */
import { type z } from 'zod';

export type MessageKind = 'command' | 'event';

const TYPE_PATTERN = /^([a-z][a-z-]*)\.([a-z][a-z-]*)\.v([1-9][0-9]*)$/;

export interface MessageType<S extends z.ZodType = z.ZodType> {
  readonly kind: MessageKind;
  /** Wire type, e.g. `payment.authorize.v1`; the CloudEvents `type` and the routing key. */
  readonly type: string;
  readonly domain: string;
  readonly version: number;
  readonly schema: S;
  readonly summary: string;
  /** A message of this type about `subject` (the order id), ready for a unit of work to publish or send. */
  of(data: z.input<S>, subject: string): OutgoingMessage<z.output<S>>;
}

export interface OutgoingMessage<D = unknown> {
  readonly messageType: MessageType;
  readonly subject: string;
  readonly data: D;
}

export type DataOf<M> = M extends MessageType<infer S> ? z.output<S> : never;

function define<S extends z.ZodType>(kind: MessageKind, type: string, schema: S, summary: string): MessageType<S> {
  const match = TYPE_PATTERN.exec(type);
  if (!match) throw new Error(`message type "${type}" is not <domain>.<name>.v<N>`);
  const messageType: MessageType<S> = {
    kind,
    type,
    domain: match[1],
    version: Number(match[3]),
    schema,
    summary,
    of: (data, subject) => ({ messageType, subject, data: schema.parse(data) }),
  };
  return Object.freeze(messageType);
}

/** A request that one service does something; imperative name, exactly one consuming queue. */
export const defineCommand = <S extends z.ZodType>(type: string, schema: S, summary: string) =>
  define('command', type, schema, summary);

/** A fact that happened; past-tense name, any number of consuming queues. */
export const defineEvent = <S extends z.ZodType>(type: string, schema: S, summary: string) =>
  define('event', type, schema, summary);
