import { z } from 'zod';
import type { MessageType } from './message-type.js';

/** The JSON Schema (draft 2020-12) of a message type's `data`: what AsyncAPI and other tools read. */
export function jsonSchemaOf(messageType: MessageType): Record<string, unknown> {
  return z.toJSONSchema(messageType.schema, { target: 'draft-2020-12', io: 'input' });
}
