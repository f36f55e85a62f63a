"""PullConsumer against the real cluster: assign and subscribe modes, seeks, commits, pause, and
the sync and asyncio iteration."""

import asyncio
import time
from typing import Callable, Dict, List, Set, Tuple

import pytest

import rocketmq_ons as ons
from conftest import ticking, wait_for

K = ons.PropertyKeyConst


def pull_consumer(namesrv: str, group: str, **extra: str) -> ons.PullConsumer:
    props: Dict[str, str] = {K.NAMESRV_ADDR: namesrv, K.GROUP_ID: group, K.AUTO_COMMIT: "false"}
    props.update(extra)
    return ons.ONSFactory.create_pull_consumer(props)


def send(producer: ons.Producer, topic: str, n: int, prefix: str = "m") -> Set[Tuple[bytes, str]]:
    sent = set()
    for i in range(n):
        key = f"{prefix}-key-{i}"
        body = f"{prefix}-body-{i}".encode()
        producer.send(ons.Message(topic, "TagA", key, body))
        sent.add((body, key))
    return sent


def poll_until(c: ons.PullConsumer, n: int, timeout: float = 30.0) -> List[ons.Message]:
    got: List[ons.Message] = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        got.extend(c.poll(0.5))
    return got


def pairs(messages: List[ons.Message]) -> Set[Tuple[bytes, str]]:
    return {(m.body, m.key or "") for m in messages}


def test_assign_poll_seek_commit(namesrv: str, topic: str, producer: ons.Producer, admin: ons.Admin,
                                 unique: Callable[[str], str]) -> None:
    sent = send(producer, topic, 12)
    group = unique("GID_PULL")
    with pull_consumer(namesrv, group) as c:
        queues = c.topic_partitions(topic)
        assert len(queues) == 4 and all(isinstance(q, ons.MessageQueue) and q.topic == topic for q in queues)
        c.assign(queues)
        assert c.assignment() == sorted(queues, key=lambda q: (q.topic, q.broker_name, q.queue_id))
        for q in queues:
            c.seek_to_beginning(q)
        got = poll_until(c, 12)
        assert len(got) == 12 and pairs(got) == sent
        assert c.poll(0.3) == []

        # seek_to_beginning re-reads everything.
        for q in queues:
            c.seek_to_beginning(q)
        again = poll_until(c, 12)
        assert len(again) == 12 and pairs(again) == sent

        # commit_sync: committed() is the broker's consumer offset, which is each queue's max.
        # Nothing committed yet (autoCommit off): a broker answers 0 rather than "none" for a
        # group without an offset on a queue it still holds from offset 0 in memory (apache/rocketmq
        # ConsumerManageProcessor.queryConsumerOffset).
        for q in queues:
            assert c.committed(q) in (None, 0)
        c.commit_sync()
        stats = {s.queue: s for s in admin.consume_stats(group, topic).queues}
        for q in queues:
            committed = c.committed(q)
            assert committed == stats[q].consumer_offset == stats[q].broker_offset, (q, committed, stats[q])

        # seek to an offset, and offset_for_timestamp of the future is the end.
        busiest = max(queues, key=lambda q: stats[q].broker_offset)
        end = stats[busiest].broker_offset
        assert end > 0
        c.seek(busiest, end - 1)
        one = poll_until(c, 1)
        assert len(one) == 1 and one[0].queue_offset == end - 1
        assert c.offset_for_timestamp(busiest, int(time.time() * 1000) + 3_600_000) == end


def test_pause_stops_a_queue(namesrv: str, topic: str, producer: ons.Producer, unique: Callable[[str], str]) -> None:
    with pull_consumer(namesrv, unique("GID_PULL")) as c:
        queues = c.topic_partitions(topic)
        c.assign(queues)
        for q in queues:
            c.seek_to_end(q)
        c.pause(queues)
        sent = send(producer, topic, 8, "paused")
        assert c.poll(2.0) == []
        c.resume(queues)
        got = poll_until(c, 8)
        assert pairs(got) == sent


def test_subscribe_mode_receives(namesrv: str, topic: str, producer: ons.Producer,
                                 unique: Callable[[str], str]) -> None:
    with pull_consumer(namesrv, unique("GID_PULL"), **{K.ConsumeFromWhere: "CONSUME_FROM_FIRST_OFFSET"}) as c:
        c.subscribe(topic, "TagA")
        assert wait_for(lambda: len(c.assignment()) == 4), c.assignment()
        sent = send(producer, topic, 6, "sub")
        producer.send(ons.Message(topic, "TagB", b"filtered out"))
        got = poll_until(c, 6)
        assert pairs(got) == sent
        assert c.poll(1.0) == []
        c.unsubscribe(topic)
        assert wait_for(lambda: c.assignment() == [])


def test_partition_change_listener_is_told_the_queues(namesrv: str, topic: str,
                                                      unique: Callable[[str], str]) -> None:
    # Registered before start, the listener is told the topic's queues at the first check, 10 s
    # after start (as Java's DefaultLitePullConsumerImpl does).
    changes: List[Tuple[str, List[ons.MessageQueue]]] = []
    c = pull_consumer(namesrv, unique("GID_PULL"))
    c.register_topic_partition_change_listener(topic, lambda t, qs: changes.append((t, qs)))
    with c:
        assert wait_for(lambda: bool(changes), timeout=20.0)
        assert changes[0] == (topic, c.topic_partitions(topic))
        assert all(isinstance(q, ons.MessageQueue) for q in changes[0][1])


def test_async_for_yields_batches_without_blocking_the_loop(namesrv: str, topic: str, producer: ons.Producer,
                                                           unique: Callable[[str], str]) -> None:
    sent = send(producer, topic, 10, "async")

    async def main() -> Tuple[List[ons.Message], int, float]:
        got: List[ons.Message] = []
        async with ticking() as ticks:
            started = time.monotonic()
            async with pull_consumer(namesrv, unique("GID_PULL"), **{K.POLL_TIMEOUT_MILLIS: "500"}) as c:
                queues = await c.topic_partitions_async(topic)
                c.assign(queues)
                for q in queues:
                    await c.seek_to_beginning_async(q)
                async for batch in c:
                    assert batch, "async for yields only non-empty batches"
                    got.extend(batch)
                    if len(got) >= 10:
                        break
                # Nothing more: a poll waits its timeout on the runtime while the ticker runs.
                assert await c.poll_async(1.0) == []
                await c.commit_sync_async()
                assert [await c.committed_async(q) for q in queues] == [c.committed(q) for q in queues]
            return got, ticks[0], time.monotonic() - started

    got, ticks, took = asyncio.run(main())
    assert pairs(got) == sent
    assert took > 1.0
    # A loop held up by the polls would have ticked far less than every 10 ms.
    assert ticks > 30 * took, (ticks, took)


def test_sync_iteration_ends_at_shutdown(namesrv: str, topic: str, producer: ons.Producer,
                                         unique: Callable[[str], str]) -> None:
    sent = send(producer, topic, 5, "iter")
    c = pull_consumer(namesrv, unique("GID_PULL"), **{K.POLL_TIMEOUT_MILLIS: "300"})
    c.start()
    queues = c.topic_partitions(topic)
    c.assign(queues)
    for q in queues:
        c.seek_to_beginning(q)
    got: List[ons.Message] = []
    for batch in c:
        assert batch
        got.extend(batch)
        if len(got) >= 5:
            c.shutdown()
    assert pairs(got) == sent
    assert c.is_closed()


def test_bad_input_raises_clearly(namesrv: str, topic: str, unique: Callable[[str], str]) -> None:
    c = pull_consumer(namesrv, unique("GID_PULL"))
    with pytest.raises(TypeError):
        c.assign(["not a queue"])  # type: ignore[list-item]
    with pytest.raises(ons.NotStartedError, match="not started"):
        c.poll(0.1)
    with c:
        queues = c.topic_partitions(topic)
        c.assign(queues[:1])
        with pytest.raises(ons.InvalidArgumentError, match="timeout"):
            c.poll(-1)
        unknown = ons.MessageQueue(topic, queues[0].broker_name, 99)
        with pytest.raises(ons.InvalidArgumentError, match="not one this consumer owns"):
            c.seek_to_beginning(unknown)
        with pytest.raises(ons.InvalidArgumentError, match="outside the stored range"):
            c.seek(queues[0], 1_000_000)
        with pytest.raises(ons.InvalidArgumentError):
            c.subscribe(topic, "*")
        with pytest.raises(TypeError, match="callable"):
            c.register_topic_partition_change_listener(topic, 42)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            c.seek(queues[0], "0")  # type: ignore[arg-type]
        with pytest.raises(ons.TopicNotFoundError):
            c.topic_partitions(unique("PyNoSuchTopic"))
    with pytest.raises(ons.InvalidConfigError):
        ons.PullConsumer({K.NAMESRV_ADDR: namesrv})
