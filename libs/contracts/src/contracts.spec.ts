import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { jsonSchemaOf } from './json-schema.js';
import { defineEvent } from './message-type.js';
import { OrderCancellationRequested } from './messages/order.js';
import { MESSAGE_TYPES } from './registry.js';
import { ORDERFLOW_ROUTING } from './routing.js';
import { z } from 'zod';

const released = JSON.parse(readFileSync(new URL('./schemas.snapshot.json', import.meta.url), 'utf8')) as Record<
  string,
  unknown
>;

describe('released message schemas', () => {
  it.each(MESSAGE_TYPES.map((m) => [m.type, m] as const))('%s is released and unchanged', (type, messageType) => {
    expect(released[type], `${type} is not released yet: run npm run contracts:release`).toBeDefined();
    expect(jsonSchemaOf(messageType), `${type} changed after release: make it a new version instead`).toEqual(
      released[type],
    );
  });

  it('keeps every released version, even one no longer produced', () => {
    const current = new Set(MESSAGE_TYPES.map((m) => m.type));
    expect(Object.keys(released).filter((type) => !current.has(type))).toEqual([]);
  });
});

describe('message types', () => {
  it('name commands imperatively and events in the past tense, as <domain>.<name>.v<N>', () => {
    for (const m of MESSAGE_TYPES) {
      expect(m.type).toMatch(/^[a-z-]+\.[a-z-]+\.v\d+$/);
      if (m.kind === 'event') expect(m.type.split('.')[1]).toMatch(/(ed|placed|unavailable|requested|changed)$/);
    }
  });

  it('refuse a malformed wire type', () => {
    expect(() => defineEvent('PaymentAuthorized', z.object({}), 'x')).toThrow(/<domain>\.<name>\.v<N>/);
  });

  it('validate data when a message is made', () => {
    const [placed] = MESSAGE_TYPES;
    expect(() => placed.of({ orderId: 'not-a-uuid' })).toThrow();
  });

  it('each name the order they are about, which is their subject', () => {
    for (const m of MESSAGE_TYPES) {
      // Every schema is an object with an orderId (a UUID): the subject is read from it, on both sides of the wire.
      expect(Object.keys((m.schema as unknown as { shape: object }).shape), m.type).toContain('orderId');
    }
    const orderId = randomUUID();
    expect(OrderCancellationRequested.of({ orderId }).subject).toBe(orderId);
    expect(OrderCancellationRequested.subjectOf({ orderId })).toBe(orderId);
  });
});

describe('routing', () => {
  const consumers = (type: string) => ORDERFLOW_ROUTING.queues.filter((q) => q.receives.some((m) => m.type === type));
  const publishers = (type: string) =>
    Object.entries(ORDERFLOW_ROUTING.publishes).filter(([, types]) => types.some((m) => m.type === type));

  it.each(MESSAGE_TYPES.map((m) => [m.type, m] as const))('%s has one publisher and a receiving queue', (type, m) => {
    expect(publishers(type)).toHaveLength(1);
    // A command has exactly one owner; an event may have many subscribers but never none (publishes are mandatory).
    if (m.kind === 'command') expect(consumers(type)).toHaveLength(1);
    else expect(consumers(type).length).toBeGreaterThanOrEqual(1);
  });

  it('names each queue <service>.<purpose>', () => {
    for (const queue of ORDERFLOW_ROUTING.queues)
      expect(queue.name).toMatch(new RegExp(`^${queue.service}\\.[a-z-]+$`));
  });

  it('sends each command to the service of its domain', () => {
    for (const queue of ORDERFLOW_ROUTING.queues) {
      for (const m of queue.receives.filter((r) => r.kind === 'command')) expect(m.domain).toBe(queue.service);
    }
  });
});
