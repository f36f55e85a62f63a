"""Python client benchmark (not a test); py/bench/run.sh drives it.

Subcommands print one tab-separated record per phase on stdout:

    CLIENT  MODE  CONCURRENCY  MESSAGES  SECONDS  CPU_SECONDS

* `ours --namesrv A --topic T [--sync 1,8] [--window 1,256] [--messages N] [--max-secs S] [--size B]`:
  this package: sync sends from C threads, then `send_async` with W in flight for each W.
* `ours-consume --namesrv A --topic T --messages N`: a fresh consumer group reads N messages
  (already in the topic) from the first offset; listener does nothing but count.
* `legacy ...`, `legacy-consume ...`: the same with PyPI `rocketmq` 0.4.4 (the C++ client);
  run with that virtualenv's interpreter.
* `core-consume ...`: the same consumer with a Rust listener (the core's own consume cost).
* `topic --namesrv A --topic T`: creates the topic (8 queues).
* `fill --namesrv A --topic T --messages N`: puts N messages in the topic (batches).
* `table FILE`: ratios of the records in FILE (also the Rust core's `bench_producer` records);
  a client measured in several rounds is shown with its best, and this package's CPU per
  message over the core's also paired by round (the median of the rounds' ratios).

CPU is this process's user+system time (getrusage), so CPU per message compares the clients'
own cost; the broker runs on the same two cores.
"""

import argparse
import asyncio
import os
import resource
import statistics
import sys
import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Tuple


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def emit(client: str, mode: str, conc: int, msgs: int, secs: float, cpu_s: float) -> None:
    print(f"{client}\t{mode}\t{conc}\t{msgs}\t{secs:.3f}\t{cpu_s:.3f}", flush=True)


def threaded(send: Callable[[], None], conc: int, messages: int, max_secs: float) -> Tuple[int, float, float]:
    """Runs `send` from `conc` threads until `messages` or `max_secs`; (sent, seconds, cpu)."""
    lock = threading.Lock()
    left = [messages]
    done = [0]
    deadline = time.monotonic() + max_secs

    def worker() -> None:
        mine = 0
        while time.monotonic() < deadline:
            with lock:
                if left[0] <= 0:
                    break
                left[0] -= 1
            send()
            mine += 1
        with lock:
            done[0] += mine

    threads = [threading.Thread(target=worker) for _ in range(conc)]
    c0, t0 = cpu(), time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[0], time.monotonic() - t0, cpu() - c0


def ours(a: argparse.Namespace) -> None:
    import rocketmq_ons as ons

    body = os.urandom(a.size)
    # Untraced, as the peers (which trace nothing) and the core's bench_producer (run.sh).
    with ons.Producer(namesrv_addr=a.namesrv, group_id="GID_pybench", msg_trace_switch=False) as p:
        for _ in range(200):  # warm-up: routes, connections
            p.send(ons.Message(a.topic, body=body))
        for conc in [int(c) for c in a.sync.split(",") if c]:
            msg = ons.Message(a.topic, body=body)
            sent, secs, used = threaded(lambda: None if p.send(msg) else None, conc, a.messages, a.max_secs)
            emit("py", "sync", conc, sent, secs, used)

        async def window(size: int) -> Tuple[int, float, float]:
            # `size` sends in flight, awaited together: the futures are gathered directly (no
            # Task per message), as an application sending in bursts would; a window of 1 is
            # `await send_async()` in a loop.
            msg = ons.Message(a.topic, body=body)
            sent = 0
            deadline = time.monotonic() + a.max_secs
            c0, t0 = cpu(), time.monotonic()
            while sent < a.messages and time.monotonic() < deadline:
                n = min(size, a.messages - sent)
                if n == 1:
                    await p.send_async(msg)
                else:
                    await asyncio.gather(*[p.send_async(msg) for _ in range(n)])
                sent += n
            return sent, time.monotonic() - t0, cpu() - c0

        for size in [int(w) for w in a.window.split(",") if w]:
            sent, secs, used = asyncio.run(window(size))
            emit("py", "async", size, sent, secs, used)


def topic(a: argparse.Namespace) -> None:
    """Creates the topic with 8 queues (the C++ client does not send to unknown topics)."""
    import rocketmq_ons as ons

    ons.Admin(namesrv_addr=a.namesrv).create_topic(a.topic, 8)


def fill(a: argparse.Namespace) -> None:
    import rocketmq_ons as ons

    body = os.urandom(a.size)
    with ons.Producer(namesrv_addr=a.namesrv, group_id="GID_pybench_fill") as p:
        for i in range(0, a.messages, 32):
            p.send_batch([ons.Message(a.topic, body=body) for _ in range(min(32, a.messages - i))])


def ours_consume(a: argparse.Namespace) -> None:
    import rocketmq_ons as ons

    count = [0]
    lock = threading.Lock()
    done = threading.Event()

    def listener(msg: Any, ctx: Any) -> Any:
        with lock:
            count[0] += 1
            if count[0] >= a.messages:
                done.set()
        return ons.Action.CommitMessage

    c = ons.Consumer(namesrv_addr=a.namesrv, group_id="GID_pybench_c_" + uuid.uuid4().hex[:8],
                     consume_from_where="CONSUME_FROM_FIRST_OFFSET", consume_thread_nums=a.threads,
                     msg_trace_switch=False)
    c.subscribe(a.topic, "*", listener)
    c0, t0 = cpu(), time.monotonic()
    c.start()
    done.wait(a.max_secs)
    secs, used = time.monotonic() - t0, cpu() - c0
    c.shutdown()
    emit("py", "consume", a.threads, count[0], secs, used)


def core_consume(a: argparse.Namespace) -> None:
    """The same consumer with a Rust listener (the core's cost, in this process)."""
    from rocketmq_ons import _native

    c0 = cpu()
    count, secs = _native._core_consume_bench(
        a.topic, a.messages, a.max_secs, namesrv_addr=a.namesrv,
        group_id="GID_pybench_rc_" + uuid.uuid4().hex[:8],
        consume_from_where="CONSUME_FROM_FIRST_OFFSET", consume_thread_nums=a.threads, msg_trace_switch=False)
    emit("rust", "consume", a.threads, count, secs, cpu() - c0)


def legacy(a: argparse.Namespace) -> None:
    from rocketmq.client import Message, Producer  # type: ignore[import-not-found]

    body = os.urandom(a.size)
    p = Producer("GID_pybench_legacy")
    p.set_namesrv_addr(a.namesrv)
    p.start()
    try:
        def send() -> None:
            m = Message(a.topic)
            m.set_body(body)
            p.send_sync(m)

        for _ in range(200):
            send()
        for conc in [int(c) for c in a.sync.split(",") if c]:
            sent, secs, used = threaded(send, conc, a.messages, a.max_secs)
            emit("legacy", "sync", conc, sent, secs, used)
    finally:
        p.shutdown()


def legacy_consume(a: argparse.Namespace) -> None:
    from rocketmq.client import PushConsumer  # type: ignore[import-not-found]

    count = [0]
    lock = threading.Lock()
    done = threading.Event()

    def listener(msg: Any) -> None:  # returning normally is success in this API
        with lock:
            count[0] += 1
            if count[0] >= a.messages:
                done.set()

    c = PushConsumer("GID_pybench_lc_" + uuid.uuid4().hex[:8])
    c.set_namesrv_addr(a.namesrv)
    c.set_thread_count(a.threads)
    c.subscribe(a.topic, listener)
    c0, t0 = cpu(), time.monotonic()
    c.start()
    done.wait(a.max_secs)
    secs, used = time.monotonic() - t0, cpu() - c0
    c.shutdown()
    emit("legacy", "consume", a.threads, count[0], secs, used)


def table(a: argparse.Namespace) -> None:
    # Every round's measurement of each (client, mode, concurrency), in the order recorded.
    runs: Dict[Tuple[str, str, int], List[Tuple[float, float]]] = {}
    for line in open(a.file):
        f = line.rstrip("\n").split("\t")
        if f[0] == "ours":  # bench_producer: ours FMT MODE CONC msgs secs cpu ...
            if f[1] != "JSON":
                continue
            # Its blocking phase is the core's sync send called from plain threads, each blocked
            # on its call as a Python thread is: the floor of this package's sync send.
            key = ("rust-threads", "sync", int(f[3])) if f[2] == "blocking" else ("rust", f[2], int(f[3]))
            msgs, secs, used = float(f[4]), float(f[5]), float(f[6])
        elif f[0] in ("py", "legacy", "rust"):
            key = (f[0], f[1], int(f[2]))
            msgs, secs, used = float(f[3]), float(f[4]), float(f[5])
        else:
            continue
        if msgs > 0 and secs > 0:
            runs.setdefault(key, []).append((msgs / secs, used / msgs * 1e6))
    # Several rounds: each client's best (highest rate, lowest CPU per message).
    rows = {key: (max(r for r, _ in ms), min(c for _, c in ms)) for key, ms in runs.items()}
    print(f"{'client':13} {'mode':8} {'conc':>5} {'msg/s':>10} {'CPU us/msg':>11}")
    for (client, mode, conc), (rate, cpu_us) in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
        print(f"{client:13} {mode:8} {conc:5d} {rate:10.0f} {cpu_us:11.1f}")
    print()
    for (client, mode, conc), (rate, cpu_us) in sorted(rows.items()):
        if client != "py":
            continue
        for other in ("rust", "rust-threads", "legacy"):
            peer = rows.get((other, mode, conc))
            if peer:
                print(f"py/{other} {mode} c={conc}: throughput {rate / peer[0]:.2f}x, "
                      f"cost per message (wall) {peer[0] / rate:.2f}x, CPU per message {cpu_us / peer[1]:.2f}x")
    print()
    # The best rounds of two clients may come from different states of the VM (a client's own
    # CPU per message moved by a third between runs minutes apart); a round's two measurements
    # are a minute apart at most. So the ratio of each round's pair, and their median.
    # A client's CPU per message falls as its rate rises (more messages per socket call and per
    # wake-up), and the broker's pace moves the rate by up to 3x between rounds: each round's
    # ratio is listed with both sides' rates, in thousands of messages a second.
    # rust-threads: the core's sync sends from blocked threads (the package's targets are set
    # against the core's tasks, rust; what the package adds to a blocked thread's call is the
    # ratio to rust-threads).
    print("py/rust and py/rust-threads CPU per message, paired by round (each round's package over")
    print("that round's core; in brackets the package's and the core's msg/s that round, in thousands):")
    for core_side in ("rust", "rust-threads"):
        for (client, mode, conc), mine in sorted(runs.items()):
            core = runs.get((core_side, mode, conc))
            if client != "py" or not core:
                continue
            ratios = [p[1] / c[1] for p, c in zip(mine, core)]
            listed = " ".join(f"{r:.2f} ({p[0] / 1e3:.0f}/{c[0] / 1e3:.0f})" for r, p, c in zip(ratios, mine, core))
            print(f"  py/{core_side} {mode} c={conc}: median {statistics.median(ratios):.2f}x over {len(ratios)} rounds: {listed}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd")
    ap.add_argument("file", nargs="?")
    ap.add_argument("--namesrv", default=os.environ.get("NAMESRV_ADDR"))
    ap.add_argument("--topic", default="PyBenchTopic")
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--max-secs", type=float, default=8.0)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--sync", default="1,8")
    ap.add_argument("--window", default="1,256")
    ap.add_argument("--threads", type=int, default=8)
    a = ap.parse_args()
    {"ours": ours, "ours-consume": ours_consume, "core-consume": core_consume, "topic": topic, "fill": fill, "legacy": legacy,
     "legacy-consume": legacy_consume, "table": table}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
