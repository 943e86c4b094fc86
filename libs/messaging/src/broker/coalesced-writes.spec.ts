// coalesceWrites on a real loopback socket pair: the frames written in one tick leave in one writev, and nothing is
// held past its tick.
import { once } from 'node:events';
import { createServer, type Server, Socket } from 'node:net';
import type { ChannelModel } from 'amqplib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { coalesceWrites } from './coalesced-writes.js';

let server: Server;
let client: Socket;
let received: Buffer[];

beforeEach(async () => {
  received = [];
  server = createServer((peer) => peer.on('data', (chunk: Buffer) => received.push(chunk)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  client = new Socket();
  client.connect(port, '127.0.0.1');
  await once(client, 'connect');
});

afterEach(async () => {
  client.destroy();
  server.close();
  await once(server, 'close');
});

const modelOf = (stream: Socket) => ({ connection: { stream } }) as unknown as ChannelModel;
const arrived = () => Buffer.concat(received).toString();

describe('coalesceWrites', () => {
  it('sends the frames written in one tick as one writev, in order', async () => {
    coalesceWrites(modelOf(client));
    const writev = vi.spyOn(client as unknown as { _writev: () => void }, '_writev');
    const write = vi.spyOn(client as unknown as { _write: () => void }, '_write');
    for (const frame of ['a', 'b', 'c', 'd', 'e']) client.write(frame);

    await vi.waitFor(() => expect(arrived()).toBe('abcde'));
    expect(writev).toHaveBeenCalledTimes(1);
    expect(write).not.toHaveBeenCalled();
  });

  it('holds nothing past the tick it was written in', async () => {
    coalesceWrites(modelOf(client));
    client.write('first');
    await vi.waitFor(() => expect(arrived()).toBe('first'));
    await new Promise((resolve) => setImmediate(resolve));
    client.write('second');
    await vi.waitFor(() => expect(arrived()).toBe('firstsecond'));
  });

  it('wraps a socket once, however often its connection is set up', () => {
    coalesceWrites(modelOf(client));
    const wrapped = Reflect.get(client, 'write') as unknown;
    coalesceWrites(modelOf(client));
    expect(Reflect.get(client, 'write')).toBe(wrapped);
  });

  it('leaves a model without a socket as it is', () => {
    expect(() => coalesceWrites({} as ChannelModel)).not.toThrow();
  });
});
