/**
 * How a service says which messages it handles: a decorated method per message type, or a provider that lists its
 * types at run time (a saga). The messaging module finds both at boot and gives each queue a consumer only for the
 * types the service has handlers for.
 *
 * Guarantee: a message type has at most one handler in a service; the module refuses to start otherwise, so a
 * message is never handled twice in one transaction by two handlers that each think they own it.
 */
import type { MessageType } from '@orderflow/contracts';

export const HANDLE_MESSAGE = Symbol('orderflow:handle-message');

/**
 * Marks a provider method as the handler of a message type: `(message: IncomingMessage<D>, uow: UnitOfWork)`.
 * Handlers are found at boot; adding a message type to a service is one decorated method.
 */
export function HandleMessage(messageType: MessageType): MethodDecorator {
  return (_target, _key, descriptor) => {
    Reflect.defineMetadata(HANDLE_MESSAGE, messageType, descriptor.value as object);
    return descriptor;
  };
}

export const MESSAGE_HANDLER_SET = Symbol('orderflow:message-handler-set');

/** A provider that handles a set of message types known only at run time (a saga: every event its table names). */
export interface MessageHandlerSet {
  messageHandlers(): Iterable<readonly [MessageType, (message: never, uow: never) => Promise<void>]>;
}

/** Marks a provider class as a MessageHandlerSet, found at boot like @HandleMessage methods. */
export function HandlesMessages(): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(MESSAGE_HANDLER_SET, true, target);
  };
}
