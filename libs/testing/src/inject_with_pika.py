"""Publishes messages to RabbitMQ with pika, a second AMQP client next to the services' amqplib, so tests inject
messages exactly as another client would put them on the wire. Reads JSON lines from stdin: {"exchange",
"routingKey", "body" (the message body, a string), "properties"}; publishes each with publisher confirms, in order;
exits 0 once every message was confirmed, 1 with the reason otherwise.

Usage: /usr/bin/python3 inject_with_pika.py amqp://user:password@host:port/vhost < messages.jsonl
"""
import json
import sys

import pika


def main() -> int:
    connection = pika.BlockingConnection(pika.URLParameters(sys.argv[1]))
    channel = connection.channel()
    channel.confirm_delivery()
    count = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        p = message.get("properties", {})
        properties = pika.BasicProperties(
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
    connection.close()
    print(f"published {count}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as err:  # noqa: BLE001 - the test wants the reason, whatever it is
        print(f"injection failed: {err!r}", file=sys.stderr)
        sys.exit(1)
