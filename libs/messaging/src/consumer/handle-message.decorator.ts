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
