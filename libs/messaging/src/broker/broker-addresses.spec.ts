import { describe, expect, it } from 'vitest';
import { BrokerAddresses, endpointOf } from './broker-addresses.js';

const nodes = [
  'amqp://order:s%40cret@127.0.0.1:5672/orderflow',
  'amqp://order:s%40cret@127.0.0.1:5702/orderflow',
  'amqp://order:s%40cret@127.0.0.1:5732/orderflow?heartbeat=5',
];

describe('BrokerAddresses', () => {
  it('starts at a random node, so replicas spread over the cluster', () => {
    expect(new BrokerAddresses(nodes, () => 0).current).toBe('amqp://127.0.0.1:5672/orderflow');
    expect(new BrokerAddresses(nodes, () => 0.5).current).toBe('amqp://127.0.0.1:5702/orderflow');
    expect(new BrokerAddresses(nodes, () => 0.99).current).toBe('amqp://127.0.0.1:5732/orderflow');
  });

  it('moves to the next node on each advance, round and round', () => {
    const addresses = new BrokerAddresses(nodes, () => 0.5);
    const seen = [addresses.endpoint.port];
    for (let i = 0; i < 4; i += 1) {
      addresses.advance();
      seen.push(addresses.endpoint.port);
    }
    expect(seen).toEqual([5702, 5732, 5672, 5702, 5732]);
  });

  it('changes the one endpoint object in place, and leaves no field of the previous node behind', () => {
    const addresses = new BrokerAddresses(nodes, () => 0.99);
    const endpoint = addresses.endpoint;
    expect(endpoint.heartbeat).toBe(5);
    addresses.advance();
    expect(addresses.endpoint).toBe(endpoint);
    expect(endpoint).toMatchObject({ port: 5672, heartbeat: undefined });
  });

  it('keeps credentials out of the address it shows', () => {
    const addresses = new BrokerAddresses(nodes);
    expect(addresses.current).not.toContain('cret');
    expect(addresses.current).not.toContain('order@');
  });

  it('takes a single URL as a list of one', () => {
    const addresses = new BrokerAddresses(nodes[0]);
    addresses.advance();
    expect(addresses.size).toBe(1);
    expect(addresses.endpoint.port).toBe(5672);
  });
});

describe('endpointOf', () => {
  it('reads a URL as amqplib reads one', () => {
    expect(endpointOf('amqps://pay%3Ament:p%2Fw@mq.example:5671/order%2Fflow?heartbeat=10&frameMax=8192')).toEqual({
      protocol: 'amqps',
      hostname: 'mq.example',
      port: 5671,
      username: 'pay:ment',
      password: 'p/w',
      vhost: 'order/flow',
      heartbeat: 10,
      frameMax: 8192,
      channelMax: undefined,
      locale: undefined,
    });
  });

  it('defaults as amqplib does: guest when no credentials, vhost "/" when no path', () => {
    expect(endpointOf('amqp://localhost')).toMatchObject({
      username: undefined,
      password: undefined,
      vhost: '/',
      port: undefined,
    });
  });
});
