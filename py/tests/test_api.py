"""The Python surface without the network: exceptions, properties, Message, enums."""

import pytest

import rocketmq_ons as ons
from rocketmq_ons import _native


def test_version_is_the_installed_distributions() -> None:
    from importlib.metadata import version

    assert ons.__version__ == version("rocketmq-ons")
    assert ons.__version__.count(".") >= 2


def test_one_exception_class_per_error_kind_with_stable_codes() -> None:
    classes = [getattr(ons, name) for name in _native._ERROR_CLASS_NAMES]
    assert len(classes) == 14
    codes = [c.code for c in classes]
    assert len(set(codes)) == len(codes) and 0 not in codes
    for c in classes:
        assert issubclass(c, ons.ONSClientException)
        assert c.kind.isupper()
    assert ons.InvalidConfigError.code == 1 and ons.InvalidConfigError.kind == "INVALID_CONFIG"
    assert ons.ONSTimeoutError.kind == "TIMEOUT"
    assert ons.InternalError.code == 99
    assert sorted(_native._ERROR_CLASS_NAMES) == sorted(n for n in ons.__all__ if n.endswith("Error"))


def test_bad_config_names_the_property() -> None:
    with pytest.raises(ons.InvalidConfigError) as e:
        ons.ONSFactory.create_producer({ons.PropertyKeyConst.GROUP_ID: "GID_x"})
    assert "NAMESRV_ADDR" in str(e.value)
    assert e.value.code == 1 and e.value.response_code is None
    with pytest.raises(ons.InvalidConfigError, match="SendMsgTimeoutMillis"):
        ons.Producer(namesrv_addr="127.0.0.1:9876", group_id="G", send_msg_timeout_millis="soon")
    with pytest.raises(ons.InvalidConfigError, match="GROUP_ID"):
        ons.Consumer(namesrv_addr="127.0.0.1:9876", group_id="bad group")
    with pytest.raises(TypeError, match="nonsense"):
        ons.Producer(namesrv_addr="127.0.0.1:9876", group_id="G", nonsense=1)
    with pytest.raises(TypeError):
        ons.TransactionProducer(namesrv_addr="127.0.0.1:9876", group_id="G")


def test_options_by_keyword_ons_name_and_mapping() -> None:
    assert ons.PropertyKeyConst.NAMESRV_ADDR == "NAMESRV_ADDR"
    assert ons.PropertyKeyConst.SuspendTimeMillis == "suspendTimeMillis"
    assert ons.PropertyKeyConst.MaxCachedMessageAmount == "maxCachedMessageAmount"
    ons.Producer({"NAMESRV_ADDR": "127.0.0.1:9876"}, GROUP_ID="GID_a", send_msg_timeout_millis=500,
                 is_vip_channel_enabled=False)
    c = ons.ONSFactory.create_batch_consumer(namesrv_addr="127.0.0.1:9876", group_id="GID_b",
                                             consume_message_batch_max_size=8)
    assert not c.is_started() and not c.is_closed()


def test_message_is_binary_safe_and_validates() -> None:
    body = bytes(range(256)) * 3
    m = ons.Message("T", "TagA", "Key1", body, user_properties={"k": "v"})
    assert m.body == body and m.tag == "TagA" and m.key == "Key1"
    assert m.get_user_properties("k") == "v" and m.user_properties == {"k": "v"}
    m.body = bytearray(b"\x00\xff")
    assert m.body == b"\x00\xff"
    m.body = memoryview(b"abc")
    assert m.body == b"abc"
    m.body = "é"
    assert m.body == "é".encode()
    with pytest.raises(TypeError):
        m.body = 5  # type: ignore[assignment]
    with pytest.raises(ons.InvalidArgumentError, match="reserved"):
        m.put_user_properties("UNIQ_KEY", "x")
    assert m.msg_id is None and m.queue_id is None and m.reconsume_times == 0


def test_enums_carry_the_core_names() -> None:
    assert ons.Action("CommitMessage") is ons.Action.CommitMessage
    assert [a.value for a in ons.OrderAction] == ["Success", "Suspend"]
    assert ons.TransactionStatus.Unknown is ons.TransactionStatus.Unknow
    assert ons.PropertyValueConst.BROADCASTING == "BROADCASTING"


def test_not_started_and_closed_producers_refuse_to_send() -> None:
    p = ons.Producer(namesrv_addr="127.0.0.1:9876", group_id="GID_ns")
    with pytest.raises(ons.NotStartedError):
        p.send(ons.Message("T", body=b"x"))
    p.start()
    p.shutdown()
    assert p.is_closed()
    with pytest.raises(ons.NotStartedError):
        p.send(ons.Message("T", body=b"x"))


def test_unknown_property_names_the_closest_key() -> None:
    props = {"NAMESRV_ADDR": "127.0.0.1:9876", "GROUP_ID": "GID_a", "SendMsgTimeoutMilis": "100"}
    with pytest.raises(ons.InvalidConfigError,
                       match=r"unknown property 'SendMsgTimeoutMilis' \(did you mean 'SendMsgTimeoutMillis'\?\)"):
        ons.Producer(props)
    ons.Producer(props, allow_unknown_properties=True)
    with pytest.raises(TypeError, match="did you mean 'send_msg_timeout_millis'"):
        ons.Producer(namesrv_addr="127.0.0.1:9876", group_id="G", send_msg_timeout_milis=100)


def test_message_takes_the_ons_argument_order_or_keywords() -> None:
    # Java, C++ and Node: Message(topic, tag, body) and Message(topic, tag, key, body).
    m = ons.Message("T", "TagA", "hi")
    assert (m.topic, m.tag, m.key, m.body) == ("T", "TagA", None, b"hi")
    m = ons.Message("T", "TagA", "K1", b"\x00body")
    assert (m.tag, m.key, m.body) == ("TagA", "K1", b"\x00body")
    m = ons.Message("T", None, bytearray(b"ba"), key="K2", sharding_key="S")
    assert (m.tag, m.key, m.body, m.sharding_key) == (None, "K2", b"ba", "S")
    m = ons.Message("T", body=b"x", tag="A")
    assert (m.tag, m.key, m.body) == ("A", None, b"x")
    m = ons.Message(topic="T", key="K", body="é")
    assert (m.tag, m.key, m.body) == (None, "K", "é".encode())
    m = ons.Message()
    assert (m.topic, m.tag, m.body) == ("", None, b"")


def test_message_refuses_what_it_could_misread() -> None:
    # One positional after the topic is a body in some clients and a tag in others.
    with pytest.raises(TypeError, match=r"Message\(topic, tag, body\).*got 2 positional arguments: give a lone "
                                        r"body as Message\(topic, body=\.\.\.\)"):
        ons.Message("T", b"x")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="got 5 positional arguments"):
        ons.Message("T", "A", "K", b"x", b"y")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="got multiple values for body"):
        ons.Message("T", "A", b"x", body=b"y")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="got multiple values for tag"):
        ons.Message("T", "A", b"x", tag="B")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="got multiple values for key"):
        ons.Message("T", "A", "K", b"x", key="K")  # type: ignore[call-overload]
    # The old order, Message(topic, body, tag), now has a bytes tag: refused, not swapped.
    with pytest.raises(TypeError, match="message tag must be a str or None, not bytes"):
        ons.Message("T", b"body", "TagA")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="message key must be a str or None, not int"):
        ons.Message("T", "A", 7, b"x")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="message body must be bytes, bytearray, memoryview or str, not int"):
        ons.Message("T", "A", 5)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="message body must be bytes, bytearray, memoryview or str, not object"):
        ons.Message("T", body=object())  # type: ignore[call-overload]
