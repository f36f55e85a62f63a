"""Admin against the real cluster: every operation, sync and awaitable (each awaitable's result
compared with the sync one's), cross-checked with the official mqadmin where it shows the same
thing (topicList, topicStatus, consumerProgress); argument errors without the network; the
Python example of docs/admin.md."""

import asyncio
import inspect
import os
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Set, Tuple

import pytest

import rocketmq_ons as ons

from conftest import wait_for

BROKER_VERSION = os.environ.get("ONS_TEST_BROKER_VERSION", "")


def is_4x() -> bool:
    return BROKER_VERSION.startswith("4.")


def rows_starting_with(out: str, first: str) -> List[List[str]]:
    """The whitespace-separated columns of mqadmin's table rows whose first column is `first`."""
    return [line.split() for line in out.splitlines() if line.split()[:1] == [first]]


@pytest.fixture(scope="module")
def cluster(admin: ons.Admin) -> str:
    return admin.cluster_list()[0].cluster


def test_every_operation_has_an_awaitable_twin() -> None:
    sync = {n for n, _ in inspect.getmembers(ons.Admin, callable) if not n.startswith("_") and not n.endswith("_async")}
    assert len(sync) == 23, sorted(sync)
    for name in sync:
        assert hasattr(ons.Admin, f"{name}_async"), name
        assert getattr(ons.Admin, f"{name}_async").__doc__ == getattr(ons.Admin, name).__doc__


def test_cluster_list_and_broker_runtime_info(admin: ons.Admin) -> None:
    brokers = admin.cluster_list()
    assert brokers and all(b.role is ons.BrokerRole.MASTER and b.broker_id == 0 for b in brokers), brokers
    for b in brokers:
        assert b.runtime_error is None and b.runtime["brokerVersionDesc"] == b.version
        if BROKER_VERSION:
            assert b.version == "V" + BROKER_VERSION.replace(".", "_")
        assert "role=<BrokerRole.MASTER: 'MASTER'>" in repr(b) and "runtime=" not in repr(b)
        assert admin.broker_runtime_info(b.addr)["brokerVersionDesc"] == b.version

    async def awaited() -> Tuple[List[ons.ClusterBroker], Dict[str, str]]:
        return await admin.cluster_list_async(), await admin.broker_runtime_info_async(brokers[0].addr)

    again, runtime = asyncio.run(awaited())
    assert [(b.broker_name, b.addr, b.version) for b in again] == [(b.broker_name, b.addr, b.version) for b in brokers]
    assert runtime["brokerVersionDesc"] == brokers[0].version


def test_topic_lifecycle_and_messages(admin: ons.Admin, cluster: str, producer: ons.Producer,
                                      unique: Callable[[str], str], mqadmin: Callable[..., str]) -> None:
    topic, key = unique("PyAdmT"), unique("key")
    masters = sorted(b.broker_name for b in admin.cluster_list())
    assert sorted(admin.update_topic(cluster, topic, 3, write_queue_nums=2)) == masters
    assert wait_for(lambda: topic in admin.list_topics(), timeout=35)
    route = admin.topic_route(topic)
    assert sorted(b.broker_name for b in route.brokers) == masters
    for q in route.queues:
        assert (q.read_queue_nums, q.write_queue_nums) == (3, 2)
        assert q.perm == ons.Perm.READ | ons.Perm.WRITE and isinstance(q.perm, ons.Perm)
    assert all(0 in b.addrs for b in route.brokers)
    assert topic in mqadmin("topicList").split()

    sent = [producer.send(ons.Message(topic, body=f"body {i}".encode(), tag="A", key=key)) for i in range(6)]
    # A queue counts a message once the broker's dispatch (asynchronous to the send's answer) has
    # written it to the consume queue.
    assert wait_for(lambda: sum(q.max_offset for q in admin.topic_stats(topic).queues) == 6, timeout=15)
    stats = admin.topic_stats(topic)
    assert sum(q.max_offset for q in stats.queues) == 6 and all(q.queue.topic == topic for q in stats.queues)
    theirs = sorted((c[0], int(c[1]), int(c[2]), int(c[3]))
                    for b in masters for c in rows_starting_with(mqadmin("topicStatus", "-t", topic), b))
    assert theirs == sorted((q.queue.broker_name, q.queue.queue_id, q.min_offset, q.max_offset) for q in stats.queues)
    # max_offsets reads every readable queue (3); 4.9.7 brokers report the stats of the writable
    # ones only (2), 5.x brokers of all: a queue without stats has had nothing written.
    written = {q.queue: q.max_offset for q in stats.queues}
    max_offsets = admin.max_offsets(topic)
    assert len(max_offsets) == 3 * len(masters) and set(written) <= {o.queue for o in max_offsets}
    assert all(o.offset == written.get(o.queue, 0) for o in max_offsets)

    first = sent[0]
    by_key = admin.message_by_id(topic, first.message_id)
    by_offset_id = admin.message_by_id(topic, first.offset_msg_id)
    viewed = admin.view_message(topic, first.offset_msg_id)
    for m in (by_key, by_offset_id, viewed):
        assert m is not None and m.body == b"body 0" and m.msg_id == first.message_id
        assert (m.queue_id, m.queue_offset) == (first.queue_id, first.queue_offset)
    assert admin.message_by_id(topic, "0" * 32) is None

    begin, end = int(time.time() * 1000) - 600_000, int(time.time() * 1000) + 600_000
    # Brokers index a message a moment after storing it.
    assert wait_for(lambda: len(admin.query_messages(topic, key, begin, end)) == 6, timeout=15)
    assert {m.msg_id for m in admin.query_messages(topic, key, begin, end)} == {s.message_id for s in sent}
    assert admin.query_messages(topic, key, begin - 600_000, begin) == []

    queue = stats.queues[0].queue
    in_queue = [s for s in sent if (s.broker_name, s.queue_id) == (queue.broker_name, queue.queue_id)]
    read = admin.read_queue(topic, queue.broker_name, queue.queue_id, 0, 100)
    assert [m.msg_id for m in read] == [s.message_id for s in in_queue]
    assert [m.queue_offset for m in read] == list(range(len(in_queue)))

    async def awaited() -> List[Any]:
        return list(await asyncio.gather(
            admin.list_topics_async(), admin.topic_route_async(topic), admin.topic_stats_async(topic),
            admin.max_offsets_async(topic), admin.message_by_id_async(topic, first.message_id),
            admin.view_message_async(topic, first.offset_msg_id),
            admin.query_messages_async(topic, key, begin, end),
            admin.read_queue_async(topic, queue.broker_name, queue.queue_id, 0, 100)))

    topics, route2, stats2, max2, found, viewed2, queried, read2 = asyncio.run(awaited())
    assert topic in topics and route2 == route and stats2.queues == stats.queues
    assert max2 == admin.max_offsets(topic)
    assert found.msg_id == viewed2.msg_id == first.message_id
    assert {m.msg_id for m in queried} == {s.message_id for s in sent}
    assert [m.msg_id for m in read2] == [m.msg_id for m in read]

    admin.delete_topic(cluster, topic)
    assert topic not in admin.list_topics()
    with pytest.raises(ons.TopicNotFoundError):
        admin.topic_route(topic)


def test_topics_made_and_deleted_by_awaitables(admin: ons.Admin, cluster: str, unique: Callable[[str], str]) -> None:
    topic, other = unique("PyAdmA"), unique("PyAdmB")

    async def main() -> None:
        assert await admin.update_topic_async(cluster, topic, 2, perm=ons.Perm.READ)
        await admin.create_topic_async(other, 2)
        for t in (topic, other):
            assert await wait_async(lambda: admin.list_topics_async(), lambda topics: t in topics)
        assert (await admin.topic_route_async(topic)).queues[0].perm == ons.Perm.READ
        await admin.delete_topic_async(cluster, topic)
        await admin.delete_topic_async(cluster, other)
        topics = await admin.list_topics_async()
        assert topic not in topics and other not in topics

    asyncio.run(main())


async def wait_async(call: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 35) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done(await call()):
            return True
        await asyncio.sleep(0.2)
    return False


def test_subscription_groups(admin: ons.Admin, cluster: str, unique: Callable[[str], str]) -> None:
    group = unique("GID_PyAdmG")
    # 5.x brokers keep a retry policy; 4.x ones ignore it.
    policy = ons.GroupRetryPolicy(ons.RetryPolicyType.EXPONENTIAL, ons.ExponentialRetryPolicy(initial=1000))
    config = ons.SubscriptionGroupConfig(group, consume_broadcast_enable=False, retry_max_times=3,
                                         retry_queue_nums=2, group_retry_policy=policy)
    assert config.consume_enable and config.consume_from_min_enable and config.which_broker_when_consume_slowly == 1
    assert "retry_max_times=3" in repr(config)
    masters = admin.update_subscription_group(cluster, config)

    def stored(listing: List[ons.BrokerSubscriptionGroups]) -> Dict[str, ons.SubscriptionGroupConfig]:
        return {b.broker_name: g for b in listing for g in b.groups if g.group_name == group}

    found = stored(admin.list_subscription_groups(cluster))
    assert sorted(found) == sorted(masters)
    for g in found.values():
        assert (g.consume_broadcast_enable, g.retry_max_times, g.retry_queue_nums) == (False, 3, 2)
        if is_4x():
            assert g.group_retry_policy is None
        else:
            assert g.group_retry_policy == policy, g
            assert g.group_retry_policy.policy_type is ons.RetryPolicyType.EXPONENTIAL
    assert policy.exponential_retry_policy is not None and policy.exponential_retry_policy.max == 7_200_000

    async def awaited() -> Tuple[List[str], Dict[str, ons.SubscriptionGroupConfig], List[str]]:
        updated = await admin.update_subscription_group_async(cluster, ons.SubscriptionGroupConfig(
            group, retry_max_times=5))
        listing = stored(await admin.list_subscription_groups_async(cluster))
        deleted = await admin.delete_subscription_group_async(cluster, group, clean_offset=True)
        return updated, listing, deleted

    updated, listing, deleted = asyncio.run(awaited())
    assert updated == masters == deleted
    assert {g.retry_max_times for g in listing.values()} == {5}
    assert stored(admin.list_subscription_groups(cluster)) == {}
    assert admin.delete_subscription_group(cluster, group) == masters  # deleting what is gone succeeds


def test_online_consumer_group(admin: ons.Admin, namesrv: str, topic: str, producer: ons.Producer,
                               unique: Callable[[str], str], mqadmin: Callable[..., str]) -> None:
    group = unique("GID_PyAdmC")
    got: List[Tuple[str, str]] = []
    lock = threading.Lock()

    def listener(msg: ons.Message, ctx: ons.ConsumeContext) -> ons.Action:
        with lock:
            got.append((msg.msg_id or "", msg.tag or ""))
        return ons.Action.CommitMessage

    with ons.Consumer(namesrv_addr=namesrv, group_id=group, consume_from_where="CONSUME_FROM_FIRST_OFFSET") as c:
        c.subscribe(topic, "A", listener)
        # A broker records a heartbeat's channel before its subscriptions (ConsumerManager.registerConsumer:
        # updateChannel, then updateSubscription), and this consumer subscribes after it started:
        # wait for the client and its subscription.
        def online_with_subscription() -> bool:
            seen = admin.consumer_connections(group)
            return bool(seen.clients) and any(s.topic == topic for s in seen.subscriptions)

        assert wait_for(online_with_subscription)
        connections = admin.consumer_connections(group)
        (client,) = connections.clients
        assert client.language == "RUST" and client.client_addrs
        subscription = next(s for s in connections.subscriptions if s.topic == topic)
        assert (subscription.sub_string, subscription.tags, subscription.expression_type) == ("A", ["A"], "TAG")
        assert connections.message_model == "CLUSTERING" and connections.consume_type == "CONSUME_PASSIVELY"

        tracked = producer.send(ons.Message(topic, body=b"tracked", tag="A"))
        other_tag = producer.send(ons.Message(topic, body=b"direct", tag="B"))

        # Both messages committed (the tag-B one is filtered out, but its offset is committed too, by
        # the next periodic commit): only then do the offsets stop moving, so that our figures and
        # mqadmin's, read one after the other, describe the same state.
        def committed() -> bool:
            queues = admin.consume_stats(group, topic).queues
            return all(any((q.queue.broker_name, q.queue.queue_id) == (sent.broker_name, sent.queue_id)
                           and q.consumer_offset > sent.queue_offset for q in queues)
                       for sent in (tracked, other_tag))

        assert wait_for(committed, timeout=30)
        assert (tracked.message_id, "A") in got
        stats = admin.consume_stats(group, topic)
        assert stats.total_lag == sum(q.lag for q in stats.queues)
        progress = mqadmin("consumerProgress", "-g", group)
        theirs = sorted((c[1], int(c[2]), int(c[3]), int(c[4])) for c in rows_starting_with(progress, topic))
        ours = sorted((q.queue.broker_name, q.queue.queue_id, q.broker_offset, q.consumer_offset)
                      for q in stats.queues if q.queue.topic == topic)
        assert ours == theirs, progress

        info = admin.consumer_running_info(group, client.client_id)
        assert info.consume_type == "CONSUME_PASSIVELY" and not info.orderly
        assert topic in {s.topic for s in info.subscriptions}
        assert {q.queue for q in stats.queues if q.queue.topic == topic} <= {q.queue for q in info.queues}
        assert info.properties.get("consumerGroup") == group

        direct = admin.consume_message_directly(group, client.client_id, topic, other_tag.message_id)
        assert direct.result is ons.DirectConsumeResult.CR_SUCCESS and not direct.order
        assert (other_tag.message_id, "B") in got

        (track,) = [t for t in admin.message_track(topic, tracked.message_id) if t.group == group]
        assert track.track_type is ons.TrackType.CONSUMED and track.error is None
        assert group in admin.groups_of_topic(topic)

        async def awaited() -> List[Any]:
            return list(await asyncio.gather(
                admin.consumer_connections_async(group), admin.consume_stats_async(group, topic),
                admin.consumer_running_info_async(group, client.client_id),
                admin.consume_message_directly_async(group, client.client_id, topic, other_tag.offset_msg_id),
                admin.message_track_async(topic, tracked.message_id), admin.groups_of_topic_async(topic)))

        connections2, stats2, info2, direct2, tracks2, groups2 = asyncio.run(awaited())
        assert connections2 == connections and stats2.queues == stats.queues
        assert info2.subscriptions == info.subscriptions
        assert direct2.result is ons.DirectConsumeResult.CR_SUCCESS
        assert track in tracks2 and group in groups2

    # Offline now: the track says so, and the offsets can be moved.
    (track,) = [t for t in admin.message_track(topic, tracked.message_id) if t.group == group]
    assert track.track_type is ons.TrackType.NOT_ONLINE
    queues = admin.topic_stats(topic).queues
    starts, ends = {q.queue: q.min_offset for q in queues}, {q.queue: q.max_offset for q in queues}
    assert starts != ends
    earliest = admin.reset_offsets(group, topic, ons.ResetPosition.EARLIEST)
    assert {o.queue: o.offset for o in earliest} == starts

    async def reset_async() -> Tuple[List[ons.QueueOffset], List[ons.QueueOffset]]:
        latest = await admin.reset_offsets_async(group, topic, ons.ResetPosition.LATEST)
        # A time before every stored message: each queue's first one.
        an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
        by_time = await admin.reset_offsets_async(group, topic, an_hour_ago)
        return latest, by_time

    latest, by_time = asyncio.run(reset_async())
    assert {o.queue: o.offset for o in latest} == ends
    assert {o.queue: o.offset for o in by_time} == starts
    assert {(q.queue, q.consumer_offset) for q in admin.consume_stats(group, topic).queues} >= set(starts.items())


def test_bad_arguments_raise_before_any_request() -> None:
    # Nothing listens on port 1: an error of the network would mean a request was tried.
    admin = ons.Admin(namesrv_addr="127.0.0.1:1")
    with pytest.raises(ons.InvalidArgumentError, match="queue_nums must be 0 to"):
        admin.create_topic("T", -1)
    with pytest.raises(ons.InvalidArgumentError, match="topic"):
        admin.create_topic("", 4)
    with pytest.raises(ons.InvalidArgumentError, match="write_queue_nums"):
        admin.update_topic("C", "T", 4, write_queue_nums=-2)
    with pytest.raises(ons.InvalidArgumentError, match="at least one read and one write queue"):
        admin.update_topic("C", "T", 0)
    with pytest.raises(ons.InvalidArgumentError, match="contains ' '"):
        admin.delete_topic("C", "a b")
    with pytest.raises(ons.InvalidArgumentError, match="group name"):
        admin.consumer_connections("")
    with pytest.raises(ons.InvalidArgumentError, match="SOMETIME"):
        admin.reset_offsets("G", "T", "SOMETIME")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ResetPosition"):
        admin.reset_offsets("G", "T", 1.5)  # type: ignore[arg-type]
    with pytest.raises(ons.InvalidArgumentError, match="begin no later than its end"):
        admin.query_messages("T", "k", 2, 1)
    with pytest.raises(ons.InvalidArgumentError, match="0 <= begin <= end"):
        admin.read_queue("T", "broker-a", 0, -1, 5)
    with pytest.raises(ValueError, match="RetryPolicyType"):
        ons.GroupRetryPolicy("SOMETIMES")

    async def awaited() -> None:
        with pytest.raises(ons.InvalidArgumentError, match="queue_nums"):
            await admin.create_topic_async("T", -1)
        with pytest.raises(ons.InvalidArgumentError, match="topic"):
            await admin.update_topic_async("C", "", 1)
        # A request that is tried fails naming what it was.
        with pytest.raises(ons.ONSClientException, match="list topics"):
            await admin.list_topics_async()

    asyncio.run(awaited())
    with pytest.raises(RuntimeError, match="no running event loop"):
        admin.list_topics_async()


def test_values_compare_hash_and_repr() -> None:
    q = ons.MessageQueue("T", "broker-a", 3)
    assert q == ons.MessageQueue("T", "broker-a", 3) and len({q, ons.MessageQueue("T", "broker-a", 3)}) == 1
    assert repr(q) == "MessageQueue(topic='T', broker_name='broker-a', queue_id=3)"
    assert ons.CustomizedRetryPolicy([1000, 2000]).next == [1000, 2000]
    assert repr(ons.ExponentialRetryPolicy()) == "ExponentialRetryPolicy(initial=5000, max=7200000, multiplier=2)"
    assert ons.GroupRetryPolicy("CUSTOMIZED").policy_type is ons.RetryPolicyType.CUSTOMIZED
    assert ons.TrackType("NOT_ONLINE") == "NOT_ONLINE" and ons.Perm(6) == ons.Perm.READ | ons.Perm.WRITE


def python_example_of_docs() -> str:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "admin.md").read_text()
    section = re.search(r"^### Python\n(.*?)(?=^#{2,3} )", doc, re.S | re.M)
    assert section, "docs/admin.md has no '### Python' section"
    blocks = re.findall(r"^```python\n(.*?)^```$", section.group(1), re.S | re.M)
    assert blocks, "no python block in the Python section of docs/admin.md"
    return "\n".join(blocks)


def test_the_python_example_of_docs_admin_md_runs(namesrv: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = python_example_of_docs().replace("127.0.0.1:9876", namesrv)
    exec(compile(code, "docs/admin.md", "exec"), {"__name__": "__main__"})
    assert "DefaultCluster" in capsys.readouterr().out
