"""Start-up and exit time of short Python processes (not a test; no cluster needed).

    python py/bench/startup.py [-n 20] [--python PATH] [--namesrv HOST:PORT] [--topic T]

Runs, interleaved, N times each:

* `plain`: the interpreter alone (`print` a timestamp);
* `import`: `import rocketmq_ons`;
* `producer`: make, start and shut down a producer (and send one message to `--topic` when
  given) against `--namesrv` (default: NAMESRV_ADDR, else 127.0.0.1:9876; a producer starts
  without a reachable name server too);

and the same `import` and `producer` scripts with PyPI `rocketmq==0.4.4` (`from rocketmq.client
import Producer`) when that package is importable by the interpreter.

For each case it prints the median wall time of the whole process (fork to reaped exit), its
difference to `plain`, and the median *exit lag*: the time from the script's last line (which
prints a CLOCK_MONOTONIC timestamp, shared by all processes on the machine) to the moment this
parent sees the process gone. Then the ratios of this package to rocketmq==0.4.4.

Use an optimized build (`maturin build --profile dist`): a dev build's numbers say little.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import textwrap
import time
import uuid
from typing import Dict, List, NamedTuple, Optional

# One clock for parent and children: CLOCK_MONOTONIC is system-wide on Linux (and on the other
# Unixes this runs on); elsewhere wall time is the fallback, good to a few ms.
if hasattr(time, "clock_gettime") and hasattr(time, "CLOCK_MONOTONIC"):
    CLOCK_EXPR = "time.clock_gettime(time.CLOCK_MONOTONIC)"

    def now() -> float:
        return time.clock_gettime(time.CLOCK_MONOTONIC)
else:  # pragma: no cover - not Unix
    CLOCK_EXPR = "time.time()"
    now = time.time

STAMP = f"import time; print('STAMP', repr({CLOCK_EXPR}), flush=True)"


def scripts(namesrv: str, topic: Optional[str]) -> Dict[str, str]:
    group = f"GID_startup_{uuid.uuid4().hex[:8]}"
    ours_send = (f"p.send(rocketmq_ons.Message({topic!r}, body=b'startup'))" if topic else "")
    legacy_send = ""
    if topic:
        legacy_send = f"\nm = Message({topic!r})\nm.set_body(b'startup')\np.send_sync(m)"
    return {
        "plain": STAMP,
        "import": "import rocketmq_ons\n" + STAMP,
        "producer": textwrap.dedent(f"""
            import rocketmq_ons
            p = rocketmq_ons.Producer(namesrv_addr={namesrv!r}, group_id={group!r})
            p.start()
            {ours_send}
            p.shutdown()
        """) + STAMP,
        "legacy import": "from rocketmq.client import Producer\n" + STAMP,
        "legacy producer": textwrap.dedent(f"""
            from rocketmq.client import Message, Producer
            p = Producer({group + '_legacy'!r})
            p.set_namesrv_addr({namesrv!r})
            p.start()
        """) + legacy_send + "\np.shutdown()\n" + STAMP,
    }


class Run(NamedTuple):
    total: float  # fork to reaped exit
    exit_lag: float  # last line to reaped exit


def run_once(python: str, code: str) -> Run:
    start = now()
    proc = subprocess.run([python, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    end = now()
    if proc.returncode != 0:
        raise SystemExit(f"script failed with status {proc.returncode}:\n{code}\n{proc.stderr}")
    stamps = [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("STAMP ")]
    if not stamps:
        raise SystemExit(f"script printed no timestamp:\n{code}\n{proc.stdout}{proc.stderr}")
    return Run(end - start, end - float(stamps[-1]))


def importable(python: str, module: str) -> bool:
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=20, help="runs of each case (default 20)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter measured")
    parser.add_argument("--namesrv", default=os.environ.get("NAMESRV_ADDR", "127.0.0.1:9876"))
    parser.add_argument("--topic", help="also send one message to this topic in the producer scripts")
    args = parser.parse_args()

    cases = scripts(args.namesrv, args.topic)
    if not importable(args.python, "rocketmq_ons"):
        raise SystemExit(f"{args.python} cannot import rocketmq_ons")
    legacy = importable(args.python, "rocketmq.client")
    if not legacy:
        cases = {k: v for k, v in cases.items() if not k.startswith("legacy")}
        print("rocketmq==0.4.4 is not importable: measuring this package only", file=sys.stderr)

    for code in cases.values():  # warm the page cache and the broker's view of the groups
        run_once(args.python, code)
    runs: Dict[str, List[Run]] = {name: [] for name in cases}
    for _ in range(args.n):  # interleaved, so drift of the machine hits every case alike
        for name, code in cases.items():
            runs[name].append(run_once(args.python, code))

    total = {name: statistics.median(r.total for r in rs) for name, rs in runs.items()}
    lag = {name: statistics.median(r.exit_lag for r in rs) for name, rs in runs.items()}
    print(f"{args.python} ({subprocess.check_output([args.python, '-V'], text=True).strip()}), "
          f"n={args.n}, namesrv {args.namesrv}{', topic ' + args.topic if args.topic else ''}")
    print(f"{'case':<16} {'median total':>12} {'vs plain':>12} {'exit lag':>12} {'max lag':>12}")
    for name in cases:
        print(f"{name:<16} {ms(total[name]):>12} {ms(total[name] - total['plain']):>12} "
              f"{ms(lag[name]):>12} {ms(max(r.exit_lag for r in runs[name])):>12}")
    if legacy:
        print("rocketmq_ons / rocketmq==0.4.4 (median total; time added to the plain interpreter):")
        for case in ("import", "producer"):
            ours, theirs = total[case], total["legacy " + case]
            added = (ours - total["plain"]) / max(theirs - total["plain"], 1e-6)
            print(f"  {case:<9} total x{ours / theirs:.2f}   added x{added:.2f}")


if __name__ == "__main__":
    main()
