"""asyncio end to end: send a few messages with `send_async`, consume them with a coroutine
listener on the same event loop, and exit 0 once every one arrived (1 after the timeout).

    NAMESRV_ADDR=127.0.0.1:9876 python py/examples/asyncio_consumer.py [--topic T] [--count N] [--timeout S]

Each run tags its messages with a tag of its own and consumes with a group of its own, so runs
against the same topic do not see each other's messages.
"""

import argparse
import asyncio
import os
import sys
import uuid
from typing import Set

from rocketmq_ons import Action, ConsumeContext, Message, ONSFactory, PropertyKeyConst


async def run(topic: str, count: int, timeout: float) -> bool:
    run_id = uuid.uuid4().hex[:12]
    props = {
        PropertyKeyConst.NAMESRV_ADDR: os.environ.get("NAMESRV_ADDR", "127.0.0.1:9876"),
        PropertyKeyConst.GROUP_ID: f"GID_asyncio_{run_id}",
    }
    expected = {f"{run_id}-{i}" for i in range(count)}
    arrived: Set[str] = set()
    all_arrived = asyncio.Event()

    async def on_message(message: Message, context: ConsumeContext) -> Action:
        # A coroutine listener runs on the event loop that was running at subscribe(): this one,
        # so it may touch the loop's objects without locks.
        if message.key in expected:
            arrived.add(message.key)
            if arrived == expected:
                all_arrived.set()
        return Action.CommitMessage

    async with ONSFactory.create_producer(props) as producer:
        results = await asyncio.gather(
            *(producer.send_async(Message(topic, run_id, f"{run_id}-{i}", f"message {i}".encode()))
              for i in range(count)))
    print(f"sent {len(results)} messages to {topic} with tag {run_id}")

    consumer = ONSFactory.create_consumer(props, consume_from_where="CONSUME_FROM_FIRST_OFFSET")
    consumer.subscribe(topic, run_id, on_message)
    async with consumer:
        try:
            await asyncio.wait_for(all_arrived.wait(), timeout)
        except asyncio.TimeoutError:
            print(f"only {len(arrived)} of {count} messages arrived within {timeout} s", file=sys.stderr)
            return False
    print(f"consumed all {count} messages")
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description="send and consume with asyncio")
    parser.add_argument("--topic", default="AsyncioExampleTopic")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    sys.exit(0 if asyncio.run(run(args.topic, args.count, args.timeout)) else 1)


if __name__ == "__main__":
    main()
