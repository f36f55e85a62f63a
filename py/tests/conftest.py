"""Fixtures for the tests against a real cluster (tests/harness/rmq.sh exports NAMESRV_ADDR)."""

import asyncio
import contextlib
import itertools
import os
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import AsyncIterator, Callable, Iterator, List, Tuple

import pytest

import rocketmq_ons as ons

_seq = itertools.count()

# py/run-tests.sh names the installed package it checked: the suite must test that one (never
# the sources in py/python).
_expected = os.environ.get("ROCKETMQ_ONS_EXPECT_FILE")
if _expected and os.path.realpath(ons.__file__) != os.path.realpath(_expected):
    raise pytest.UsageError(f"rocketmq_ons was imported from {ons.__file__}, not from {_expected}")


@pytest.fixture(scope="session")
def namesrv() -> str:
    addr = os.environ.get("NAMESRV_ADDR")
    if not addr:
        pytest.fail("NAMESRV_ADDR is not set: run through py/run-tests.sh or tests/harness/rmq.sh run")
    return addr


@pytest.fixture(scope="session")
def admin(namesrv: str) -> ons.Admin:
    return ons.Admin(namesrv_addr=namesrv)


@pytest.fixture
def unique() -> Callable[[str], str]:
    run = uuid.uuid4().hex[:8]
    return lambda prefix: f"{prefix}_{run}_{next(_seq)}"


@pytest.fixture
def topic(admin: ons.Admin, unique: Callable[[str], str]) -> str:
    name = unique("PyT")
    admin.create_topic(name, 4)
    return name


@pytest.fixture
def producer(namesrv: str, unique: Callable[[str], str]) -> Iterator[ons.Producer]:
    with ons.ONSFactory.create_producer({ons.PropertyKeyConst.NAMESRV_ADDR: namesrv},
                                        group_id=unique("GID_P")) as p:
        yield p


def wait_for(cond: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


@pytest.fixture
def silent_namesrv() -> Iterator[str]:
    """The address of a "name server" that accepts connections and never answers: calls that
    wait for it wait for their timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield "127.0.0.1:%d" % server.getsockname()[1]
    server.close()


def ticks_while(blocking: Callable[[], None]) -> Tuple[float, int]:
    """Runs `blocking` while another thread counts in pure Python, which advances only while it
    can hold the GIL. Returns (seconds `blocking` took, ticks counted meanwhile)."""
    counter = [0]
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            counter[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        time.sleep(0.1)
        before = counter[0]
        started = time.monotonic()
        blocking()
        return time.monotonic() - started, counter[0] - before
    finally:
        stop.set()
        t.join()


@contextlib.asynccontextmanager
async def ticking() -> AsyncIterator[List[int]]:
    """A task on the running event loop adding 1 to `ticks[0]` every 10 ms: a call that holds up
    the loop shows as too few ticks."""
    ticks = [0]
    done = asyncio.Event()

    async def tick() -> None:
        while not done.is_set():
            ticks[0] += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    try:
        yield ticks
    finally:
        done.set()
        await ticker


_repo = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def mqadmin() -> Callable[..., str]:
    """Runs the official `mqadmin` of the cluster under test (tests/harness/rmq.sh mqadmin, with
    the cluster directory `rmq.sh run` exports as RMQ_DIR) and returns its output. mqadmin exits
    0 even when a command failed, so callers check the output."""
    cluster_dir = os.environ.get("RMQ_DIR")
    if not cluster_dir:
        pytest.fail("RMQ_DIR is not set: run through py/run-tests.sh under tests/harness/rmq.sh run")

    def run(*args: str) -> str:
        done = subprocess.run([str(_repo / "tests/harness/rmq.sh"), "mqadmin", "--dir", cluster_dir, "--", *args],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"mqadmin {args} failed ({done.returncode}): {done.stdout}{done.stderr}"
        return done.stdout

    return run
