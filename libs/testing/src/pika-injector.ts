/**
 * Injects messages with Python's pika (Debian's python3-pika, which `npm test` installs when missing): a second,
 * independent AMQP client, so a test proves the services read what any client puts on the wire, not only what
 * amqplib writes. Each message is published in the order given, with publisher confirms.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Options } from 'amqplib';
import { SERVICE_NAMES, type ServiceName } from '@orderflow/platform';
import { testEnvironment } from './test-environment.js';

export interface InjectedMessage {
  /** The service that sends it: published as its broker user, named in `user_id`, as that service would. */
  sender: ServiceName;
  exchange: string;
  routingKey: string;
  body: Buffer;
  properties: Options.Publish;
}

const SCRIPT = fileURLToPath(new URL('./inject_with_pika.py', import.meta.url));

export async function injectWithPika(messages: readonly InjectedMessage[]): Promise<void> {
  const urls = Object.fromEntries(SERVICE_NAMES.map((service) => [service, testEnvironment.amqpUrl(service)]));
  const child = spawn('/usr/bin/python3', [SCRIPT, JSON.stringify(urls)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  for (const m of messages) {
    child.stdin.write(
      `${JSON.stringify({ sender: m.sender, exchange: m.exchange, routingKey: m.routingKey, body: m.body.toString('utf8'), properties: m.properties })}\n`,
    );
  }
  child.stdin.end();
  const code = await exited;
  if (code !== 0) throw new Error(`pika injection failed (exit ${code}): ${output.trim()}`);
}
