"""TransactionProducer: executors (sync and coroutine), rollback, and the broker's check-back."""

import asyncio
import threading
from typing import Any, Callable, List

import pytest

import rocketmq_ons as ons

from conftest import wait_for


def collecting_consumer(namesrv: str, group: str, topic: str, got: List[bytes]) -> ons.Consumer:
    c = ons.Consumer(namesrv_addr=namesrv, group_id=group, consume_from_where="CONSUME_FROM_FIRST_OFFSET")
    def listener(m: ons.Message, ctx: ons.ConsumeContext) -> ons.Action:
        got.append(m.body)
        return ons.Action.CommitMessage

    c.subscribe(topic, "*", listener)
    return c


def test_commit_rollback_and_coroutine_executor(namesrv: str, topic: str, unique: Callable[[str], str]) -> None:
    checked: List[Any] = []
    got: List[bytes] = []
    executed: List[Any] = []

    def execute(msg: ons.Message, arg: Any) -> ons.TransactionStatus:
        executed.append((msg.msg_id, arg))
        return ons.TransactionStatus.CommitTransaction if arg == "commit" else ons.TransactionStatus.RollbackTransaction

    async def execute_async(msg: ons.Message, arg: Any) -> ons.TransactionStatus:
        await asyncio.sleep(0.01)
        return ons.TransactionStatus.CommitTransaction

    def checker(m: ons.Message) -> ons.TransactionStatus:
        checked.append(m)
        return ons.TransactionStatus.RollbackTransaction

    with ons.ONSFactory.create_transaction_producer(
            {ons.PropertyKeyConst.NAMESRV_ADDR: namesrv, ons.PropertyKeyConst.GROUP_ID: unique("GID_TX")},
            checker=checker) as p, \
            collecting_consumer(namesrv, unique("GID_TXC"), topic, got) as c:
        r1 = p.send(ons.Message(topic, body=b"committed"), execute, "commit")
        p.send(ons.Message(topic, body=b"rolled back"), execute, "rollback")

        async def main() -> ons.SendResult:
            return await p.send_async(ons.Message(topic, body=b"async committed"), execute_async)

        asyncio.run(main())
        assert executed[0] == (r1.message_id, "commit")
        assert wait_for(lambda: len(got) >= 2)
        assert c.is_started()
    assert sorted(got) == [b"async committed", b"committed"]


def test_unknown_is_settled_by_the_checker(namesrv: str, topic: str, unique: Callable[[str], str]) -> None:
    checked = threading.Event()
    got: List[bytes] = []

    class Checker:
        def check(self, msg: ons.Message) -> ons.TransactionStatus:
            checked.set()
            return ons.TransactionStatus.CommitTransaction

    class Executor:
        def execute(self, msg: ons.Message, arg: Any) -> ons.TransactionStatus:
            raise RuntimeError("executor fails: the transaction stays unknown")

    with ons.TransactionProducer(namesrv_addr=namesrv, group_id=unique("GID_TXK"), checker=Checker(),
                                 check_immunity_time_in_seconds=1) as p, \
            collecting_consumer(namesrv, unique("GID_TXKC"), topic, got):
        p.send(ons.Message(topic, body=b"checked"), Executor())
        # The harness runs brokers with transactionCheckInterval=3000 (the default is 60 s).
        assert checked.wait(60)
        assert wait_for(lambda: got == [b"checked"], timeout=30)


def test_transaction_bad_input(namesrv: str, unique: Callable[[str], str]) -> None:
    with ons.TransactionProducer(namesrv_addr=namesrv, group_id=unique("GID_TXB"),
                                 checker=lambda m: ons.TransactionStatus.Unknow) as p:
        with pytest.raises(ons.InvalidArgumentError):
            p.send(ons.Message("T", body=b"x", start_deliver_time=1), lambda m, a: ons.TransactionStatus.Unknow)
        with pytest.raises(TypeError):
            p.send(ons.Message("T", body=b"x"), 42)
