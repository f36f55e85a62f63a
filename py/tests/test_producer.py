"""Producers against the real cluster: every send mode, read back byte-exact."""

import asyncio
import threading
import time
from typing import Callable, List, Optional

import pytest

import rocketmq_ons as ons

from conftest import ticks_while

BINARY = bytes(range(256)) + b"\x00" * 10 + "订单".encode()


def test_sync_send_reads_back_byte_exact(producer: ons.Producer, topic: str, admin: ons.Admin) -> None:
    msg = ons.Message(topic, "TagA", "K1", BINARY, user_properties={"color": "红"})
    result = producer.send(msg)
    assert result.topic == topic and result.status == "SEND_OK" and result.message_id
    assert str(result) == f"SendResult[topic={topic}, messageId={result.message_id}]"
    stored = admin.view_message(topic, result.offset_msg_id)
    assert stored.body == BINARY
    assert stored.tag == "TagA" and stored.key == "K1" and stored.msg_id == result.message_id
    assert stored.get_user_properties("color") == "红"
    assert stored.queue_id == result.queue_id and stored.born_host


def test_oneway_and_batch(producer: ons.Producer, topic: str, admin: ons.Admin) -> None:
    producer.send_oneway(ons.Message(topic, body=b"oneway"))
    results = producer.send_batch([ons.Message(topic, body=b"b%d" % i) for i in range(5)])
    assert len(results) == 5 and len({r.message_id for r in results}) == 5
    assert admin.view_message(topic, results[3].offset_msg_id).body == b"b3"


def test_async_send_many_and_callback(producer: ons.Producer, topic: str, admin: ons.Admin) -> None:
    async def main() -> List[ons.SendResult]:
        # 16 in flight: more would meet the broker's flow control on a loaded 2-core machine,
        # and async sends (as in the Java client) do not retry a busy broker.
        window = asyncio.Semaphore(16)

        async def one(i: int) -> ons.SendResult:
            async with window:
                return await producer.send_async(ons.Message(topic, body=b"a%d" % i))

        return await asyncio.gather(*(one(i) for i in range(200)))

    results = asyncio.run(main())
    assert len({r.message_id for r in results}) == 200
    assert admin.view_message(topic, results[-1].offset_msg_id).body == b"a199"

    done = threading.Event()
    seen: List[object] = []

    def callback(result: Optional[ons.SendResult], error: Optional[BaseException]) -> None:
        seen.append(result if error is None else error)
        done.set()

    assert producer.send_async(ons.Message(topic, body=b"cb"), callback) is None
    assert done.wait(10)
    assert isinstance(seen[0], ons.SendResult)


def test_send_async_calls_an_ons_send_callback(producer: ons.Producer, topic: str, admin: ons.Admin) -> None:
    done = threading.Event()
    results: List[ons.SendResult] = []
    failures: List[ons.OnExceptionContext] = []

    class Callback:  # ONS SendCallback
        def on_success(self, result: ons.SendResult) -> None:
            results.append(result)
            done.set()

        def on_exception(self, context: ons.OnExceptionContext) -> None:
            failures.append(context)
            done.set()

    assert producer.send_async(ons.Message(topic, "TagS", b"java style"), Callback()) is None
    assert done.wait(10)
    assert not failures, failures
    (result,) = results
    assert result.topic == topic and result.status == "SEND_OK"
    stored = admin.view_message(topic, result.offset_msg_id)
    assert stored.body == b"java style" and stored.tag == "TagS" and stored.msg_id == result.message_id

    class OnlySuccess:
        def on_success(self, result: ons.SendResult) -> None:
            pass

    with pytest.raises(TypeError, match="needs both on_success.*and on_exception.*has only on_success"):
        producer.send_async(ons.Message(topic, body=b"x"), OnlySuccess())  # type: ignore[call-overload]


def test_send_async_refuses_a_callback_that_is_not_callable(producer: ons.Producer) -> None:
    for bad in [42, "callback"]:
        with pytest.raises(TypeError, match=r"send_async: callback must be a callable .*; got <class '(int|str)'>"):
            producer.send_async(ons.Message("T", body=b"x"), bad)  # type: ignore[call-overload]


def test_async_errors_are_exceptions(producer: ons.Producer) -> None:
    async def main() -> None:
        with pytest.raises(ons.InvalidArgumentError, match="topic"):
            await producer.send_async(ons.Message("bad topic!", body=b"x"))

    asyncio.run(main())
    with pytest.raises(RuntimeError, match="event loop"):
        producer.send_async(ons.Message("T", body=b"x"))


@pytest.mark.parametrize("message, match", [
    (ons.Message("", body=b"x"), "topic is empty"),
    (ons.Message("a b", body=b"x"), "topic"),
    (ons.Message("T", body=b""), "body is empty"),
    (ons.Message("T", body=b"x" * (4 * 1024 * 1024 + 1)), "4 MiB"),
])
def test_bad_input_is_invalid_argument(producer: ons.Producer, message: ons.Message, match: str) -> None:
    with pytest.raises(ons.InvalidArgumentError, match=match) as e:
        producer.send(message)
    assert e.value.code == ons.InvalidArgumentError.code == 2


def test_order_producer_same_key_same_queue(namesrv: str, topic: str, unique: Callable[[str], str]) -> None:
    with ons.ONSFactory.create_order_producer(namesrv_addr=namesrv, group_id=unique("GID_O")) as p:
        queues = {p.send(ons.Message(topic, body=b"o%d" % i), "order-42").queue_id for i in range(5)}
        assert len(queues) == 1

        async def main() -> ons.SendResult:
            return await p.send_async(ons.Message(topic, body=b"oa"), "order-42")

        assert asyncio.run(main()).queue_id in queues
        with pytest.raises(ons.InvalidArgumentError, match="sharding key"):
            p.send(ons.Message(topic, body=b"x"), "")
        # ONS refuses blank keys ("'shardingKey' is blank"): so does the core, before sending.
        for blank in [" ", "\t"]:
            with pytest.raises(ons.InvalidArgumentError, match="shardingKey .* is blank"):
                p.send(ons.Message(topic, body=b"x"), blank)


def test_async_context_manager(namesrv: str, topic: str, unique: Callable[[str], str]) -> None:
    async def main() -> None:
        async with ons.Producer(namesrv_addr=namesrv, group_id=unique("GID_A")) as p:
            assert p.is_started()
            await p.send_async(ons.Message(topic, body=b"ctx"))
        assert p.is_closed()

    asyncio.run(main())


def test_sync_send_releases_the_gil(silent_namesrv: str, unique: Callable[[str], str]) -> None:
    # The send waits for its timeout on a name server that never answers.
    p = ons.Producer(namesrv_addr=silent_namesrv, group_id=unique("GID_G"), send_msg_timeout_millis=1500)
    p.start()

    def send() -> None:
        with pytest.raises(ons.ONSClientException):
            p.send(ons.Message("T", body=b"x"))

    try:
        waited, during = ticks_while(send)
    finally:
        p.shutdown()
    assert waited > 1.0
    # Had the send held the GIL, the spinning thread would have been stuck for the whole wait.
    assert during > 100_000, during


def test_update_credential_validates_and_later_sends_are_signed(producer: ons.Producer, topic: str,
                                                                 admin: ons.Admin) -> None:
    """Credential rotation (ONS updateCredential). The test cluster checks no signature, so it is
    enough that sends go on after the rotation; the Rust suite covers rotation under ACL."""
    with pytest.raises(ons.InvalidConfigError, match="property AccessKey is required"):
        producer.update_credential({ons.PropertyKeyConst.SecretKey: "sk"})
    with pytest.raises(ons.InvalidConfigError, match="property SecretKey is required"):
        producer.update_credential(access_key="ak")
    producer.update_credential({ons.PropertyKeyConst.AccessKey: "rotated-ak",
                                ons.PropertyKeyConst.SecretKey: "rotated-sk"}, security_token="tok")
    result = producer.send(ons.Message(topic, body=b"after rotation"))
    assert admin.view_message(topic, result.offset_msg_id).body == b"after rotation"
    closed = ons.Producer(namesrv_addr="127.0.0.1:1", group_id="GID_closed")
    closed.start()
    closed.shutdown()
    with pytest.raises(ons.NotStartedError, match="shut down"):
        closed.update_credential(access_key="ak", secret_key="sk")


def test_trace_counts_tell_what_became_of_the_trace_records(namesrv: str, topic: str,
                                                          unique: Callable[[str], str]) -> None:
    # Traces are on by default: one record per send, sent to the trace topic or (on a cluster
    # without one) dropped, and counted either way.
    with ons.Producer(namesrv_addr=namesrv, group_id=unique("GID_T")) as p:
        p.send(ons.Message(topic, body=b"traced"))
        deadline = time.monotonic() + 10
        while (c := p.trace_counts()) is None or c.sent + c.dropped < 1:
            assert time.monotonic() < deadline, f"the trace record was neither sent nor dropped: {c!r}"
            time.sleep(0.05)
    counts = p.trace_counts()  # kept after shutdown
    assert counts is not None and counts.sent + counts.dropped == 1, counts
    assert repr(counts) == f"TraceCounts(sent={counts.sent}, dropped={counts.dropped})"
    with ons.Producer(namesrv_addr=namesrv, group_id=unique("GID_T"), msg_trace_switch=False) as untraced:
        untraced.send(ons.Message(topic, body=b"untraced"))
        assert untraced.trace_counts() is None
