/**
 * Services do not declare topology (their broker users have no configure permission); the broker imports it from
 * the definitions generated from the same source. At start-up a service checks, passively, that every exchange it
 * publishes to and every queue it reads exists, and refuses to start naming what is missing.
 */
import type { ChannelModel } from 'amqplib';
import { EXCHANGES, queuesOf, type Topology } from './topology.js';

export class TopologyMismatch extends Error {
  constructor(readonly missing: string[]) {
    super(`broker topology is missing ${missing.join(', ')}; import deploy/rabbitmq/definitions.json`);
    this.name = 'TopologyMismatch';
  }
}

export async function checkTopology(model: ChannelModel, topology: Topology, service: string): Promise<void> {
  const wanted = [
    ...Object.values(EXCHANGES).map((name) => ({ kind: 'exchange' as const, name })),
    ...queuesOf(topology, service).flatMap((q) => [
      { kind: 'queue' as const, name: q.name },
      { kind: 'queue' as const, name: q.deadLetterQueue },
    ]),
  ];
  const missing: string[] = [];
  for (const item of wanted) {
    // A failed passive declare closes its channel, so each check gets its own.
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    try {
      if (item.kind === 'exchange') await channel.checkExchange(item.name);
      else await channel.checkQueue(item.name);
      await channel.close();
    } catch {
      missing.push(`${item.kind} ${item.name}`);
    }
  }
  if (missing.length) throw new TopologyMismatch(missing);
}
