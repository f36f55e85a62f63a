"""Consumers against the real cluster: each kind, sync and async listeners, a raising one, a
start that waits for a silent name server, a missing topic said at WARNING."""

import asyncio
import logging
import threading
import time
from typing import Any, Callable, Dict, List, Tuple

import pytest

import rocketmq_ons as ons

from conftest import ticking, ticks_while, wait_for


def consumer_options(namesrv: str, group: str, **extra: object) -> Dict[str, Any]:
    return dict(namesrv_addr=namesrv, group_id=group, consume_from_where="CONSUME_FROM_FIRST_OFFSET",
                consume_thread_nums=4, **extra)


def test_consumer_gets_binary_bodies(namesrv: str, topic: str, producer: ons.Producer,
                                     unique: Callable[[str], str]) -> None:
    bodies = [bytes([i]) * 3 + b"\x00\xff" for i in range(20)]
    got: Dict[bytes, ons.Message] = {}
    threads = set()
    lock = threading.Lock()

    def listener(msg: ons.Message, ctx: ons.ConsumeContext) -> ons.Action:
        with lock:
            got[msg.body] = msg
            threads.add(threading.current_thread().name)
        assert ctx.topic == topic
        return ons.Action.CommitMessage

    with ons.Consumer(**consumer_options(namesrv, unique("GID_C"))) as c:
        c.subscribe(topic, "*", listener)
        ids = {producer.send(ons.Message(topic, body=b, tag="T")).message_id for b in bodies}
        assert wait_for(lambda: len(got) == len(bodies))
    assert set(got) == set(bodies)
    assert {m.msg_id for m in got.values()} == ids
    assert all(m.tag == "T" and m.born_timestamp for m in got.values())
    assert threading.main_thread().name not in threads


def test_listener_that_raises_is_redelivered_and_logged(namesrv: str, topic: str, producer: ons.Producer,
                                                        unique: Callable[[str], str],
                                                        caplog: pytest.LogCaptureFixture) -> None:
    attempts: List[int] = []

    class Listener:
        def consume(self, msg: ons.Message, ctx: ons.ConsumeContext) -> ons.Action:
            attempts.append(msg.reconsume_times)
            if msg.reconsume_times == 0:
                raise ValueError("first delivery fails")
            return ons.Action.CommitMessage

    caplog.set_level(logging.ERROR, logger="rocketmq_ons")
    with ons.Consumer(**consumer_options(namesrv, unique("GID_R"))) as c:
        c.subscribe(topic, "*", Listener())
        producer.send(ons.Message(topic, body=b"retry me"))
        # The broker redelivers a ReconsumeLater message after 10 s (delay level 3).
        assert wait_for(lambda: len(attempts) >= 2, timeout=40)
    assert attempts[:2] == [0, 1]
    assert any("first delivery fails" in (r.exc_text or "") and "ReconsumeLater" in r.getMessage()
               for r in caplog.records), caplog.records


def test_async_listener_runs_on_the_loop(namesrv: str, topic: str, producer: ons.Producer,
                                         unique: Callable[[str], str]) -> None:
    async def main() -> List[bytes]:
        got: List[bytes] = []
        loop_thread = threading.current_thread()
        on_loop: List[bool] = []

        async def listener(msg: ons.Message, ctx: ons.ConsumeContext) -> ons.Action:
            await asyncio.sleep(0)
            on_loop.append(threading.current_thread() is loop_thread)
            got.append(msg.body)
            return ons.Action.CommitMessage

        async with ons.Consumer(**consumer_options(namesrv, unique("GID_AS"))) as c:
            c.subscribe(topic, "*", listener)
            for i in range(5):
                await producer.send_async(ons.Message(topic, body=b"async%d" % i))
            for _ in range(600):
                if len(got) >= 5:
                    break
                await asyncio.sleep(0.05)
        assert all(on_loop)
        return got

    assert sorted(asyncio.run(main())) == [b"async%d" % i for i in range(5)]


def test_order_consumer_keeps_key_order_and_suspend_retries(namesrv: str, topic: str,
                                                            unique: Callable[[str], str]) -> None:
    got: Dict[str, List[int]] = {}
    failed_once = set()
    lock = threading.Lock()

    def listener(msg: ons.Message, ctx: ons.ConsumeContext) -> ons.OrderAction:
        key, n = msg.body.decode().split(":")
        with lock:
            if n == "3" and key not in failed_once:
                failed_once.add(key)
                raise RuntimeError("suspend once")
            got.setdefault(key, []).append(int(n))
        return ons.OrderAction.Success

    with ons.ONSFactory.create_order_producer(namesrv_addr=namesrv, group_id=unique("GID_OP")) as p, \
            ons.ONSFactory.create_ordered_consumer(**consumer_options(
                namesrv, unique("GID_OC"), suspend_time_millis=100)) as c:
        c.subscribe(topic, "*", listener)
        for n in range(10):
            for key in ("a", "b", "c"):
                p.send(ons.Message(topic, body=f"{key}:{n}".encode()), key)
        assert wait_for(lambda: sum(len(v) for v in got.values()) >= 30)
    assert got == {k: list(range(10)) for k in "abc"}


def test_batch_consumer_gets_lists(namesrv: str, topic: str, producer: ons.Producer,
                                   unique: Callable[[str], str]) -> None:
    sizes: List[int] = []
    got: List[bytes] = []

    def listener(msgs: List[ons.Message], ctx: ons.ConsumeContext) -> ons.Action:
        sizes.append(len(msgs))
        got.extend(m.body for m in msgs)
        return ons.Action.CommitMessage

    producer.send_batch([ons.Message(topic, body=b"batch%d" % i) for i in range(30)])
    with ons.ONSFactory.create_batch_consumer(**consumer_options(
            namesrv, unique("GID_B"), consume_message_batch_max_size=16)) as c:
        c.subscribe(topic, "*", listener)
        assert wait_for(lambda: len(got) >= 30)
    assert sorted(got) == sorted(b"batch%d" % i for i in range(30))
    assert max(sizes) > 1 and max(sizes) <= 16


def test_listener_returning_none_is_a_failure(namesrv: str, topic: str, producer: ons.Producer,
                                              unique: Callable[[str], str],
                                              caplog: pytest.LogCaptureFixture) -> None:
    calls: List[int] = []

    def listener(msg: ons.Message, ctx: ons.ConsumeContext) -> None:
        calls.append(1)

    caplog.set_level(logging.WARNING, logger="rocketmq_ons")
    with ons.Consumer(**consumer_options(namesrv, unique("GID_N"))) as c:
        c.subscribe(topic, "*", listener)
        producer.send(ons.Message(topic, body=b"none"))
        assert wait_for(lambda: len(calls) >= 1)
    assert any("returned None" in r.getMessage() for r in caplog.records)


def test_sql92_selector_filters_by_user_property(namesrv: str, topic: str, producer: ons.Producer,
                                                 unique: Callable[[str], str], mqadmin: Callable[..., str]) -> None:
    # Property filtering is a broker switch (off by default); it can be turned on at run time.
    out = mqadmin("updateBrokerConfig", "-c", "DefaultCluster", "-k", "enablePropertyFilter", "-v", "true")
    assert "exception" not in out.lower(), out
    wanted = set()
    for a in range(8):
        msg = ons.Message(topic, "even" if a % 2 == 0 else "odd", f"a={a}", user_properties={"a": str(a)})
        message_id = producer.send(msg).message_id
        if 2 <= a <= 5 and a % 2 == 1:
            wanted.add(message_id)
    got: Dict[str, bytes] = {}
    lock = threading.Lock()

    def listener(msg: ons.Message, ctx: ons.ConsumeContext) -> ons.Action:
        assert msg.msg_id is not None
        with lock:
            got[msg.msg_id] = msg.body
        return ons.Action.CommitMessage

    selector = ons.MessageSelector.by_sql("a BETWEEN 2 AND 5 AND TAGS = 'odd'")
    with ons.Consumer(**consumer_options(namesrv, unique("GID_SQL"))) as c:
        c.subscribe(topic, selector, listener)
        assert wait_for(lambda: len(got) >= len(wanted), timeout=60), got
        # Whatever else the broker would have let through has had time to arrive.
        producer.send(ons.Message(topic, "odd", b"a=9", user_properties={"a": "9"}))
        wait_for(lambda: len(got) > len(wanted), timeout=3)
    assert set(got) == wanted, got
    assert sorted(got.values()) == [b"a=3", b"a=5"]


def test_async_with_starts_off_the_event_loop(silent_namesrv: str, unique: Callable[[str], str]) -> None:
    # `async with` waits for start() (here for a name server that never answers) without
    # holding up the event loop: a task ticking every 10 ms keeps ticking meanwhile.
    group = unique("GID_AW")

    async def main() -> Tuple[float, int, BaseException]:
        c = ons.Consumer(**consumer_options(silent_namesrv, group))
        c.subscribe(unique("PyT"), "*", lambda msg, ctx: ons.Action.CommitMessage)
        async with ticking() as ticks:
            await asyncio.sleep(0.05)
            before = ticks[0]
            started = time.monotonic()
            try:
                with pytest.raises((ons.NetworkError, ons.ONSTimeoutError)) as e:
                    async with c:
                        pass
                waited = time.monotonic() - started
            finally:
                c.shutdown()
            return waited, ticks[0] - before, e.value

    waited, ticks, error = asyncio.run(main())
    assert f"consumer of group {group} cannot start" in str(error), error
    assert waited > 1.0
    # Had start() run on the loop's thread, the ticker would not have run until it returned.
    assert ticks > 10 * waited, (ticks, waited)


def test_start_releases_the_gil(silent_namesrv: str, unique: Callable[[str], str]) -> None:
    # start() checks that a name server answers the route lookup of the subscribed topic, and
    # waits for that lookup to time out on one that never answers.
    group = unique("GID_G")
    c = ons.Consumer(**consumer_options(silent_namesrv, group))
    c.subscribe(unique("PyT"), "*", lambda msg, ctx: ons.Action.CommitMessage)
    raised: List[ons.ONSClientException] = []

    def start() -> None:
        with pytest.raises((ons.NetworkError, ons.ONSTimeoutError)) as e:
            c.start()
        raised.append(e.value)

    try:
        waited, during = ticks_while(start)
    finally:
        c.shutdown()
    assert f"consumer of group {group} cannot start" in str(raised[0]), raised
    assert waited > 1.0
    # Had start() held the GIL, the spinning thread would have been stuck for the whole wait.
    assert during > 100_000, during


def test_consumer_of_a_missing_topic_warns_naming_it(namesrv: str, unique: Callable[[str], str],
                                                     caplog: pytest.LogCaptureFixture) -> None:
    missing = unique("PyNoSuchTopic")
    caplog.set_level(logging.WARNING, logger="rocketmq_ons")

    def warned() -> bool:
        return any(r.levelno == logging.WARNING and r.name.startswith("rocketmq_ons.")
                   and missing in r.getMessage() for r in caplog.records)

    with ons.Consumer(**consumer_options(namesrv, unique("GID_M"))) as c:
        c.subscribe(missing, "*", lambda msg, ctx: ons.Action.CommitMessage)
        # start() returned (the name server answered); the first rebalance says what is wrong.
        assert c.is_started()
        assert wait_for(warned, timeout=40), [(r.name, r.getMessage()) for r in caplog.records]
