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


def test_error_classes_are_also_the_builtins_users_catch() -> None:
    expected = {
        ons.InvalidConfigError: ValueError,
        ons.InvalidArgumentError: ValueError,
        ons.NotStartedError: RuntimeError,
        ons.ONSTimeoutError: TimeoutError,
        ons.NetworkError: ConnectionError,
        ons.ONSPermissionError: PermissionError,
    }
    for cls, builtin in expected.items():
        assert issubclass(cls, builtin) and issubclass(cls, ons.ONSClientException), cls
        assert cls.__module__ == "rocketmq_ons" and cls.__doc__ and cls.kind in cls.__doc__
    for name in _native._ERROR_CLASS_NAMES:
        cls = getattr(ons, name)
        if cls not in expected:
            assert cls.__mro__[1:] == (ons.ONSClientException, Exception, BaseException, object), cls
    with pytest.raises(ValueError, match="reserved") as raised:
        ons.Message("T", body=b"x").put_user_properties("UNIQ_KEY", "x")
    e = raised.value
    assert isinstance(e, ons.InvalidArgumentError) and isinstance(e, ons.ONSClientException)
    assert str(e).startswith("user property name UNIQ_KEY") or "UNIQ_KEY" in str(e)
    assert (e.response_code, e.api_code, e.message_id, e.topic) == (None, None, None, None)
    with pytest.raises(RuntimeError):
        ons.Producer(namesrv_addr="127.0.0.1:9876", group_id="GID_rt").send(ons.Message("T", body=b"x"))


def test_message_selector_by_tag_and_by_sql() -> None:
    sql = ons.MessageSelector.by_sql("a BETWEEN 2 AND 5")
    assert (sql.expression_type, sql.expression) == ("SQL92", "a BETWEEN 2 AND 5")
    assert repr(sql) == "MessageSelector.by_sql(\"a BETWEEN 2 AND 5\")"
    tag = ons.MessageSelector.by_tag("A || B")
    assert (tag.expression_type, tag.expression) == ("TAG", "A || B")
    c = ons.Consumer(namesrv_addr="127.0.0.1:9876", group_id="GID_sel")
    listener = lambda m, ctx: ons.Action.CommitMessage  # noqa: E731
    c.subscribe("T1", sql, listener)
    c.subscribe("T2", tag, listener)
    c.subscribe("T3", None, listener)
    with pytest.raises(TypeError, match="expression must be a tag expression str or a MessageSelector"):
        c.subscribe("T4", 5, listener)  # type: ignore[arg-type]
    # The core checks the condition: a blank one is refused by name.
    with pytest.raises(ons.InvalidArgumentError):
        c.subscribe("T5", ons.MessageSelector.by_sql(" "), listener)


def _dead_port() -> int:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()  # nothing listens there
    return port


def test_a_failed_send_names_its_message_and_topic() -> None:
    import asyncio
    import threading

    p = ons.Producer(namesrv_addr=f"127.0.0.1:{_dead_port()}", group_id="GID_fail", send_msg_timeout_millis=500)
    p.start()
    try:
        with pytest.raises(ons.ONSClientException) as raised:
            p.send(ons.Message("FailTopic", body=b"x"))
        assert raised.value.topic == "FailTopic"
        sync_id = raised.value.message_id
        assert sync_id is not None and len(sync_id) == 32, raised.value

        async def send() -> None:
            await p.send_async(ons.Message("FailTopicAsync", body=b"x"))

        with pytest.raises((ons.NetworkError, ons.ONSTimeoutError)) as raised_async:
            asyncio.run(send())
        e = raised_async.value
        assert isinstance(e, (ConnectionError, TimeoutError))
        assert e.topic == "FailTopicAsync" and e.message_id and e.message_id != sync_id

        # An ONS SendCallback: on_exception gets the OnExceptionContext.
        contexts: "list[ons.OnExceptionContext]" = []
        done = threading.Event()

        class Callback:
            def on_success(self, result: ons.SendResult) -> None:
                done.set()

            def on_exception(self, context: ons.OnExceptionContext) -> None:
                contexts.append(context)
                done.set()

        assert p.send_async(ons.Message("FailTopicCb", body=b"x"), Callback()) is None
        assert done.wait(10)
        (context,) = contexts
        assert context.topic == "FailTopicCb" and isinstance(context.exception, ons.ONSClientException)
        assert context.message_id is not None and context.message_id == context.exception.message_id
        assert "FailTopicCb" in repr(context)
    finally:
        p.shutdown()


def test_api_error_carries_the_api_code() -> None:
    import http.server
    import json
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.answer()

        def do_POST(self) -> None:
            self.answer()

        def answer(self) -> None:
            body = json.dumps({"asapiSuccess": False, "asapiErrorCode": "Ons.Topic.NotFound",
                               "asapiErrorMessage": "no such topic", "RequestId": "r-1"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        asapi = ons.AsapiClient(f"http://127.0.0.1:{server.server_address[1]}", "ak", "sk", "cn-test")
        with pytest.raises(ons.ApiError, match="no such topic") as raised:
            asapi.call("Ons", "OnsTopicStatus", "2019-02-14", {"Topic": "T"})
        assert raised.value.api_code == "Ons.Topic.NotFound"
        assert raised.value.response_code is None and raised.value.message_id is None
    finally:
        server.shutdown()
