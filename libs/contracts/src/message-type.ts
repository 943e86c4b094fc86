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
  /** A message of this type, about the order its data names, ready for a unit of work to publish or send. */
  of(data: z.input<S>): OutgoingMessage<z.output<S>>;
  /** The subject a message with this (parsed) data carries: its order's id (see `orderOf`). */
  subjectOf(data: z.output<S>): string;
}

export interface OutgoingMessage<D = unknown> {
  readonly messageType: MessageType;
  readonly subject: string;
  readonly data: D;
}

/**
 * Events are published and commands sent: the wrong verb is a programming error, refused where it is written (a
 * unit of work, a saga's step) rather than found on the broker, where a command on the events exchange reaches no one.
 */
export function checkVerb(message: OutgoingMessage, verb: 'publish' | 'send'): void {
  const { kind, type } = message.messageType;
  if (verb === 'publish' && kind !== 'event') throw new Error(`${type} is a command: use send()`);
  if (verb === 'send' && kind !== 'command') throw new Error(`${type} is an event: use publish()`);
}

export type DataOf<M> = M extends MessageType<infer S> ? z.output<S> : never;

/**
 * Every orderflow message on the broker is about one order, and says which in its data (a registry test holds every
 * schema to it). Its CloudEvents subject is that order's id, taken from the data: the one place the two are tied, so
 * a producer cannot send them apart, and a consumer refuses a message whose two disagree (the messaging core's
 * decode). A saga's own local events (deadlines, operators' actions) never reach the broker; the engine addresses
 * them itself.
 */
function orderOf(type: string, data: unknown): string {
  const orderId = (data as { orderId?: unknown } | null)?.orderId;
  if (typeof orderId !== 'string') throw new Error(`${type} data names no order (orderId): it has no subject`);
  return orderId;
}

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
    of: (data) => {
      const parsed = schema.parse(data);
      return { messageType, subject: orderOf(type, parsed), data: parsed };
    },
    subjectOf: (data) => orderOf(type, data),
  };
  return Object.freeze(messageType);
}

/** A request that one service does something; imperative name, exactly one consuming queue. */
export const defineCommand = <S extends z.ZodType>(type: string, schema: S, summary: string) =>
  define('command', type, schema, summary);

/** A fact that happened; past-tense name, any number of consuming queues. */
export const defineEvent = <S extends z.ZodType>(type: string, schema: S, summary: string) =>
  define('event', type, schema, summary);
