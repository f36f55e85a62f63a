"""The README's Python quickstart: send one message, sync and async, and consume it.

    NAMESRV_ADDR=127.0.0.1:9876 python py/examples/quickstart.py
"""

import asyncio
import os
import threading

from rocketmq_ons import Action, ConsumeContext, Message, ONSFactory, PropertyKeyConst

props = {
    PropertyKeyConst.NAMESRV_ADDR: os.environ.get("NAMESRV_ADDR", "127.0.0.1:9876"),
    PropertyKeyConst.GROUP_ID: "GID_quickstart",
}
received = threading.Event()


def on_message(message: Message, context: ConsumeContext) -> Action:
    print("received", message.msg_id, message.body)
    received.set()
    return Action.CommitMessage


async def send_async() -> None:
    async with ONSFactory.create_producer(props) as producer:
        result = await producer.send_async(Message("QuickstartTopic", "TagA", b"hello from asyncio"))
        print("sent", result.message_id)


def main() -> None:
    with ONSFactory.create_consumer(props, consume_from_where="CONSUME_FROM_FIRST_OFFSET") as consumer:
        consumer.subscribe("QuickstartTopic", "TagA", on_message)
        with ONSFactory.create_producer(props) as producer:
            result = producer.send(Message("QuickstartTopic", "TagA", "order-1", b"hello"))
            print("sent", result.message_id)
        asyncio.run(send_async())
        received.wait(30)


if __name__ == "__main__":
    main()
