"""Process-level behaviour: exit without shutdown, fork, logging, and the stubs."""

import ast
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Callable

import pytest

import rocketmq_ons as ons
from rocketmq_ons import _native

from conftest import wait_for


def run_python(code: str, timeout: float = 60) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ))


def test_interpreter_exits_promptly_without_shutdown(namesrv: str, topic: str, unique: Callable[[str], str]) -> None:
    started = time.monotonic()
    proc = run_python(f"""
        import asyncio, time, rocketmq_ons as ons
        p = ons.Producer(namesrv_addr={namesrv!r}, group_id={unique("GID_X")!r})
        p.start()
        p.send(ons.Message({topic!r}, body=b"left running"))
        got = []
        c = ons.Consumer(namesrv_addr={namesrv!r}, group_id={unique("GID_XC")!r},
                         consume_from_where="CONSUME_FROM_FIRST_OFFSET")
        c.subscribe({topic!r}, "*", lambda m, ctx: (got.append(m), time.sleep(0.2), ons.Action.CommitMessage)[-1])
        c.start()
        async def main():
            await p.send_async(ons.Message({topic!r}, body=b"async"))
        asyncio.run(main())
        deadline = time.time() + 20
        while not got and time.time() < deadline:
            time.sleep(0.05)
        print("consumed", len(got) > 0)
        # no shutdown: the exit hook stops both
    """)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert "consumed True" in proc.stdout
    assert elapsed < 30, elapsed


def test_import_starts_no_thread_and_the_first_client_starts_the_pumps(namesrv: str) -> None:
    # Threads of the process as the kernel sees them (Rust threads too), where /proc has them.
    proc = run_python(f"""
        import os, threading
        def threads():
            tasks = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 1
            return threading.active_count(), tasks
        import rocketmq_ons as ons
        print("after import", *threads())
        p = ons.Producer(namesrv_addr={namesrv!r}, group_id="GID_threads")
        print("after construction", *threads())
        p.start()
        print("pumps", sorted(t.name for t in threading.enumerate() if t.name.startswith("rocketmq-ons")))
        # left started: the exit hook shuts it down and stops the pumps
    """)
    assert proc.returncode == 0, proc.stderr
    assert "after import 1 1" in proc.stdout, proc.stdout
    assert "after construction 1 1" in proc.stdout, proc.stdout
    assert "pumps ['rocketmq-ons-completion', 'rocketmq-ons-log']" in proc.stdout, proc.stdout


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_gets_a_clear_error_and_a_working_new_client(namesrv: str, topic: str,
                                                                  unique: Callable[[str], str]) -> None:
    proc = run_python(f"""
        import os, sys, threading, rocketmq_ons as ons
        p = ons.Producer(namesrv_addr={namesrv!r}, group_id={unique("GID_F")!r})
        p.start()
        p.send(ons.Message({topic!r}, body=b"parent"))
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                p.send(ons.Message({topic!r}, body=b"from child"))
                code = 3
            except ons.NotStartedError as e:
                if "forked" not in str(e):
                    code = 4
            child = ons.Producer(namesrv_addr={namesrv!r}, group_id={unique("GID_FC")!r})
            # A send callback runs on the child's own completion pump (started by its first client).
            called = threading.Event()
            with child:
                r = child.send(ons.Message({topic!r}, body=b"child"))
                child.send_async(ons.Message({topic!r}, body=b"child callback"),
                                 callback=lambda result, error: error is None and called.set())
                called.wait(20)
            os._exit(code if r.status == "SEND_OK" and called.is_set() else 5)
        _, status = os.waitpid(pid, 0)
        p.send(ons.Message({topic!r}, body=b"parent again"))
        p.shutdown()
        print("child exit", os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status)
    """)
    assert proc.returncode == 0, proc.stderr
    assert "child exit 0" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_asyncio_sends_on_new_loops_after_a_cancel_and_in_a_forked_child(namesrv: str, topic: str,
                                                                         unique: Callable[[str], str]) -> None:
    # Each event loop gets its own bridge (pipe + reader) on first use; a forked child's loops
    # get bridges of the child.
    proc = run_python(f"""
        import asyncio, os, rocketmq_ons as ons
        async def burst(p, n, cancel_one=False):
            if cancel_one:
                doomed = asyncio.ensure_future(p.send_async(ons.Message({topic!r}, body=b"cancelled")))
                await asyncio.sleep(0)
                doomed.cancel()
            rs = await asyncio.gather(*[p.send_async(ons.Message({topic!r}, body=b"x")) for _ in range(n)])
            return sum(r.status == "SEND_OK" for r in rs)
        p = ons.Producer(namesrv_addr={namesrv!r}, group_id={unique("GID_AL")!r})
        p.start()
        print("loop1", asyncio.run(burst(p, 50, cancel_one=True)))
        print("loop2", asyncio.run(burst(p, 50)))
        pid = os.fork()
        if pid == 0:
            child = ons.Producer(namesrv_addr={namesrv!r}, group_id={unique("GID_ALC")!r})
            with child:
                n = asyncio.run(burst(child, 20))
            os._exit(0 if n == 20 else 6)
        _, status = os.waitpid(pid, 0)
        print("child exit", os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status)
        print("loop3", asyncio.run(burst(p, 20)))
        p.shutdown()
    """)
    assert proc.returncode == 0, proc.stderr
    for line in ("loop1 50", "loop2 50", "child exit 0", "loop3 20"):
        assert line in proc.stdout, proc.stdout + proc.stderr


def test_core_tracing_reaches_python_logging(namesrv: str, topic: str, unique: Callable[[str], str],
                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="rocketmq_ons")

    def connected() -> bool:
        return any(r.name.startswith("rocketmq_ons.transport") and "connected" in r.getMessage()
                   for r in caplog.records)

    # The log pump reads the level every 200 ms and events below the native threshold are
    # dropped where they are raised, so until the pump has run a connection goes unlogged: each
    # pass makes a new client instance (new InstanceName), whose new connections are logged.
    deadline = time.monotonic() + 20
    while True:
        with ons.Producer(namesrv_addr=namesrv, group_id=unique("GID_L"), instance_name=unique("inst")) as p:
            p.send(ons.Message(topic, body=b"log"))
        if wait_for(connected, timeout=2) or time.monotonic() > deadline:
            break
    assert connected(), [r.name for r in caplog.records]


def test_stubs_match_the_extension() -> None:
    stub = Path(ons.__file__).with_name("_native.pyi")
    tree = ast.parse(stub.read_text())
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    public = {name for name in dir(_native) if not name.startswith("__")}
    declared = set(classes) | {n.name for n in tree.body if isinstance(n, ast.FunctionDef)} | {
        n.target.id for n in tree.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
    missing = public - declared
    assert not missing, f"in the extension but not in _native.pyi: {missing}"
    stale = {n for n in declared - public if not n.startswith("_")}
    assert not stale, f"in _native.pyi but not in the extension: {stale}"
    keys = {n.target.id for n in classes["PropertyKeyConst"].body if isinstance(n, ast.AnnAssign)
            and isinstance(n.target, ast.Name)}
    assert keys == {k for k in vars(ons.PropertyKeyConst) if not k.startswith("_")}
    for name in _native._ERROR_CLASS_NAMES:
        assert name in classes
    for name, node in classes.items():
        if name.startswith("_") or name == "PropertyKeyConst" or name.endswith(("Error", "Exception")):
            continue
        runtime = {m for m in dir(getattr(_native, name)) if not m.startswith("__") or m in (
            "__enter__", "__exit__", "__aenter__", "__aexit__", "__iter__", "__next__", "__aiter__", "__anext__")}
        members = {m.name for m in node.body if isinstance(m, ast.FunctionDef)} | {
            m.target.id for m in node.body if isinstance(m, ast.AnnAssign) and isinstance(m.target, ast.Name)}
        bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
        for base in bases:
            members |= {m.name for m in classes[base].body if isinstance(m, ast.FunctionDef)}
        members.discard("__init__")
        assert runtime == members, f"{name}: stub {sorted(members - runtime)} extension {sorted(runtime - members)}"


def test_http_clients_raise_client_exceptions() -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there
    api = ons.OpenApiClient(f"http://127.0.0.1:{port}", "ak", "sk")
    with pytest.raises(ons.ONSClientException):
        api.call("/json/region/list")
    asapi = ons.AsapiClient(f"http://127.0.0.1:{port}", "ak", "sk", "cn-test")
    with pytest.raises(ons.ONSClientException):
        asapi.call("Ons", "OnsRegionList", "2019-02-14", {"PageSize": "10"})
