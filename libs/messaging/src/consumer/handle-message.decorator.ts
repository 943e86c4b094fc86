/**
 * How a service says which messages it handles. There is one mechanism: a provider is a set of message handlers,
 * which the messaging module asks for its handlers at boot (`messageHandlersOf`) and gives each queue a consumer only
 * for the types the service has handlers for. A provider builds its set in either of two ways: a decorated method per
 * message type (`@HandleMessage`), or, when its types are known only at run time (a saga: every event its table
 * names), by listing them itself (`@HandlesMessages` on a MessageHandlerSet).
 *
 * Guarantee: a message type has at most one handler in a service; `collectMessageHandlers` refuses a second, and the
 * module with it refuses to start, so a message is never handled twice in one transaction by two handlers that each
 * think they own it.
 */
import type { MessageType } from '@orderflow/contracts';
import type { MessageHandlerFn } from './incoming-message.js';

/** The handlers of one provider, each with the message type it handles. */
type HandlerEntries = Iterable<readonly [MessageType, MessageHandlerFn]>;

/** Where part of a provider's handlers come from: one decorated method, or the whole of a MessageHandlerSet. */
type HandlerSource = (provider: object) => HandlerEntries;

const MESSAGE_HANDLERS = Symbol('orderflow:message-handlers');

function addHandlerSource(providerClass: object, source: HandlerSource): void {
  // Copied, not pushed: a subclass's handlers must not become its base class's.
  const sources = (Reflect.getMetadata(MESSAGE_HANDLERS, providerClass) as HandlerSource[] | undefined) ?? [];
  Reflect.defineMetadata(MESSAGE_HANDLERS, [...sources, source], providerClass);
}

/**
 * Marks a provider method as the handler of a message type: `(message: IncomingMessage<D>, uow: UnitOfWork)`.
 * Handlers are found at boot; adding a message type to a service is one decorated method.
 */
export function HandleMessage(messageType: MessageType): MethodDecorator {
  return (target, key) => {
    addHandlerSource(target.constructor, (provider) => {
      const method = (provider as Record<string | symbol, MessageHandlerFn>)[key];
      return [[messageType, method.bind(provider)]];
    });
  };
}

/** A provider that handles a set of message types known only at run time (a saga: every event its table names). */
export interface MessageHandlerSet {
  messageHandlers(): Iterable<readonly [MessageType, (message: never, uow: never) => Promise<void>]>;
}

/** Marks a provider class as a MessageHandlerSet: its `messageHandlers()` are its handlers, found at boot. */
export function HandlesMessages(): ClassDecorator {
  return (target) => {
    addHandlerSource(target, (provider) => (provider as MessageHandlerSet).messageHandlers() as HandlerEntries);
  };
}

/** A provider's message handlers, however it declared them; none for a provider that handles no messages. */
export function* messageHandlersOf(provider: object): Generator<readonly [MessageType, MessageHandlerFn]> {
  const providerClass: unknown = provider.constructor;
  if (typeof providerClass !== 'function') return;
  const sources = Reflect.getMetadata(MESSAGE_HANDLERS, providerClass) as HandlerSource[] | undefined;
  for (const source of sources ?? []) yield* source(provider);
}

/** The handlers of a service's providers by message type; throws on a second handler for one type. */
export function collectMessageHandlers(providers: Iterable<object>): Map<string, MessageHandlerFn> {
  const handlers = new Map<string, MessageHandlerFn>();
  for (const provider of providers) {
    for (const [messageType, handler] of messageHandlersOf(provider)) {
      if (handlers.has(messageType.type)) throw new Error(`two handlers for ${messageType.type}`);
      handlers.set(messageType.type, handler);
    }
  }
  return handlers;
}
