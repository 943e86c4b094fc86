/**
 * One socket write per event-loop tick instead of one per AMQP frame.
 *
 * amqplib hands every frame to the socket with its own `write`: a relay batch of n publishes, or a consumer's n acks
 * after one commit, costs n write system calls. Profiled in the messaging benchmark, those writes were about an
 * eighth of the relay's and the consumer's CPU (bench/RESULTS.md, issue 16). Corking the socket at a tick's first
 * write and uncorking it when the tick ends sends them as one `writev`. Nothing waits longer than the tick it was
 * written in, so `noDelay`'s point (no small frame held back) stands.
 *
 * amqplib exposes no option for this; it reaches the socket through the connection's `stream`, which amqplib keeps
 * for the connection's life. A model without one (another amqplib version) is left as it is.
 */
import type { ChannelModel } from 'amqplib';
import type { Writable } from 'node:stream';

const coalesced = new WeakSet<Writable>();

export function coalesceWrites(model: ChannelModel): void {
  const stream = (model as { connection?: { stream?: unknown } }).connection?.stream;
  if (!isWritable(stream) || coalesced.has(stream)) return;
  coalesced.add(stream);
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  let corked = false;
  const uncork = () => {
    corked = false;
    stream.uncork();
  };
  stream.write = ((...args: unknown[]) => {
    if (!corked && !stream.destroyed) {
      corked = true;
      stream.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as Writable['write'];
}

function isWritable(value: unknown): value is Writable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Writable).write === 'function' &&
    typeof (value as Writable).cork === 'function' &&
    typeof (value as Writable).uncork === 'function'
  );
}
