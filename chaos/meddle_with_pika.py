"""Meddles with the services' queues for a while, as a misbehaving network and broker would: a second AMQP client
(pika, next to the services' amqplib) takes a share of each queue's deliveries as a competing consumer, holds each for
a random time (so later messages overtake it), puts it back on its queue with every property and header it had, and
for a share of them puts it back twice (a duplicate with the same message id). It acknowledges a message only after
the broker confirmed its copies, so it loses nothing: if it dies, what it held is redelivered by the broker.

A message goes back the one way a queue's consumers accept it from anyone but its owner's sender: through
orderflow.retry (routing key = the queue), published as the queue's owning service, which user_id names — as that
service's own retry would. It takes with the admin user, which may read every queue but send no service's messages.

Usage: /usr/bin/python3 meddle_with_pika.py ADMIN_AMQP_URL '{"queue": "amqp://owner…", …}' SECONDS MAX_DELAY_MS
       DUPLICATE_SHARE QUEUE [QUEUE ...]
Prints one JSON line: {"taken": n, "requeued": n, "duplicated": n}.
"""
import json
import random
import sys
import time

import pika


def main() -> int:
    url, owner_urls = sys.argv[1], json.loads(sys.argv[2])
    seconds, max_delay_ms, duplicate_share = float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    queues = sys.argv[6:]
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    # One connection per owning service, publishing with confirms, its user named in user_id.
    owners = {}
    for queue in queues:
        parameters = pika.URLParameters(owner_urls[queue])
        owner = pika.BlockingConnection(parameters)
        owner_channel = owner.channel()
        owner_channel.confirm_delivery()
        owners[queue] = (owner, owner_channel, parameters.credentials.username)
    # A small prefetch: the meddler takes a share of each queue, the services keep most of it.
    channel.basic_qos(prefetch_count=10)
    counts = {"taken": 0, "requeued": 0, "duplicated": 0}
    held = [0]

    def put_back(queue, method, properties, body):
        copies = 2 if random.random() < duplicate_share else 1
        _, owner_channel, user = owners[queue]
        properties.user_id = user
        for _ in range(copies):
            owner_channel.basic_publish(
                exchange="orderflow.retry", routing_key=queue, body=body, properties=properties, mandatory=True
            )
        channel.basic_ack(method.delivery_tag)
        counts["requeued"] += 1
        counts["duplicated"] += copies - 1
        held[0] -= 1

    def on_message(queue):
        def handle(_channel, method, properties, body):
            counts["taken"] += 1
            held[0] += 1
            delay = random.uniform(0, max_delay_ms / 1000)
            connection.call_later(delay, lambda: put_back(queue, method, properties, body))

        return handle

    tags = [channel.basic_consume(queue=q, on_message_callback=on_message(q)) for q in queues]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        connection.process_data_events(time_limit=0.1)
    for tag in tags:
        channel.basic_cancel(tag)
    # Whatever is still held goes back before the connection closes (a close would requeue it anyway, unmeddled).
    deadline = time.monotonic() + max_delay_ms / 1000 + 5
    while held[0] > 0 and time.monotonic() < deadline:
        connection.process_data_events(time_limit=0.1)
    connection.close()
    for owner, _, _ in owners.values():
        if owner.is_open:
            owner.close()
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as err:  # noqa: BLE001 - the caller wants the reason, whatever it is
        print(f"meddling failed: {err!r}", file=sys.stderr)
        sys.exit(1)
