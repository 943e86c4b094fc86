"""Publishes messages to RabbitMQ with pika, a second AMQP client next to the services' amqplib, so tests inject
messages exactly as another client would put them on the wire. Reads JSON lines from stdin: {"sender", "exchange",
"routingKey", "body" (the message body, a string), "properties"}; publishes each in order, over a connection as its
sender's broker user and naming that user in user_id (as the services do, and as their consumers require), with
publisher confirms; exits 0 once every message was confirmed, 1 with the reason otherwise.

Usage: /usr/bin/python3 inject_with_pika.py '{"saga": "amqp://saga:password@host:port/vhost", ...}' < messages.jsonl
"""
import json
import sys

import pika


def main() -> int:
    urls = json.loads(sys.argv[1])
    connections = {}
    channels = {}

    def channel_of(sender):
        if sender not in channels:
            parameters = pika.URLParameters(urls[sender])
            connections[sender] = pika.BlockingConnection(parameters)
            channels[sender] = connections[sender].channel()
            channels[sender].confirm_delivery()
        return channels[sender], pika.URLParameters(urls[sender]).credentials.username

    count = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        channel, user = channel_of(message["sender"])
        p = message.get("properties", {})
        properties = pika.BasicProperties(
            user_id=user,
            delivery_mode=2,
            content_type=p.get("contentType"),
            content_encoding=p.get("contentEncoding"),
            message_id=p.get("messageId"),
            type=p.get("type"),
            correlation_id=p.get("correlationId"),
            app_id=p.get("appId"),
            timestamp=p.get("timestamp"),
            headers=p.get("headers"),
        )
        # With confirms on, an unroutable or refused message raises here instead of vanishing.
        channel.basic_publish(
            exchange=message["exchange"],
            routing_key=message["routingKey"],
            body=message["body"].encode("utf-8"),
            properties=properties,
            mandatory=True,
        )
        count += 1
    for connection in connections.values():
        connection.close()
    print(f"published {count}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as err:  # noqa: BLE001 - the test wants the reason, whatever it is
        print(f"injection failed: {err!r}", file=sys.stderr)
        sys.exit(1)
