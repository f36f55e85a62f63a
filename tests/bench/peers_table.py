#!/usr/bin/env python3
"""One table of every client x phase from the records of one tests/bench/peers.sh run.

    peers_table.py RUN_DIR

Reads RUN_DIR/producer/*.tsv (tests/bench/producer.sh's records) and RUN_DIR/consumer/drain.jsonl
(tests/bench/consumer.sh's), keeps each client's best (highest msg/s; paced phases: lowest p99) run of every phase, and
prints per phase a row per client: msg/s, CPU seconds per 100k messages, latency percentiles of
the calls (sync, async and batch sends), peak RSS, and our ratios to that client: throughput,
CPU per message, p99 latency and peak RSS. Ours is compared in the header format the client
uses (the official Java benchmark: ROCKETMQ; every other peer: JSON, their default).

A run whose failed sends exceed 1% of the messages it sent is no measure of the client (the
official benchmark's async mode, one thread with nothing bounding what it has in flight, can
time most of its sends out on a slow machine): a run without that many is preferred as the
best, and when a client has none, its row says how many failed and shows no ratios.
"""
import json
import os
import sys

# Record layouts (see tests/src/bin/bench_producer.rs and tests/bench/go-peer/main.go).
# ours FMT MODE CONC msgs secs cpu p50 p99 p99.9 hwm_kb errors busy broker_cpu allocs
# java MODE CONC msgs secs cpu hwm_kb avg_rt send_failed response_failed total_cpu broker_cpu
# SIDE MODE CONC msgs secs cpu p50 p99 p99.9 hwm_kb errors busy broker_cpu  (measured peers)
MEASURED = {"java-loop": "Java (our loop)", "go": "Go", "rust": "Rust", "cpp": "C++"}
NAMES = {"ours": "ours (JSON)", "ours-rmq": "ours (ROCKETMQ)", "java": "Java (benchmark)", **MEASURED}
ORDER = ["ours", "ours-rmq", "java", "java-loop", "go", "rust", "cpp"]
MODES = ["sync", "async", "oneway", "batch", "paced", "drain"]


def number(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return float("nan")


# Failed sends, as a share of the messages sent, above which a run is not compared.
FAILED_SHARE_MAX = 0.01


def producer_runs(directory):
    """{(side, mode, conc): run}, each run a dict of rate, cpu100k, p50, p99, p999, rss_mib,
    failed (the failed sends) and fair (failed within FAILED_SHARE_MAX of the messages)."""
    best = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".tsv"):
            continue
        for line in open(os.path.join(directory, name)):
            f = line.rstrip("\n").split("\t")
            side = f[0]
            if side == "ours" and len(f) >= 14:
                side = "ours" if f[1].lower() == "json" else "ours-rmq"
                mode, conc, rest = f[2], f[3], f[4:]
                lat, rss, failed = rest[3:6], rest[6], number(rest[7])
            elif side == "java" and len(f) >= 12:
                mode, conc, rest = f[1], f[2], f[3:]
                lat, rss, failed = ["-", "-", "-"], rest[3], number(rest[5]) + number(rest[6])
            elif side in MEASURED and len(f) >= 13:
                mode, conc, rest = f[1], f[2], f[3:]
                lat, rss, failed = rest[3:6], rest[6], number(rest[7])
            else:
                continue
            msgs, secs, cpu = number(rest[0]), number(rest[1]), number(rest[2])
            if not msgs or not secs or msgs != msgs:
                continue
            run = {
                "rate": msgs / secs,
                "cpu100k": cpu / msgs * 100_000,
                "p50": number(lat[0]),
                "p99": number(lat[1]),
                "p999": number(lat[2]),
                "rss_mib": number(rss) / 1024,
                "failed": failed,
                # A NaN count (an unreadable field) is not taken as a failure.
                "fair": not failed > FAILED_SHARE_MAX * msgs,
            }
            key = (side, mode, int(conc))
            if key not in best or better(mode, run, best[key]):
                best[key] = run
    return best


def better(mode, run, old):
    """A fair run over one that is not; then a higher throughput, or for a paced phase (its
    throughput is the pace) a lower p99."""
    if run["fair"] != old["fair"]:
        return run["fair"]
    if mode == "paced":
        return run["p99"] < old["p99"]
    return run["rate"] > old["rate"]


def drain_runs(path, best):
    if not os.path.exists(path):
        return
    for line in open(path):
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        run = {
            "rate": r["rate"],
            "cpu100k": r["cpuSecsPer100k"],
            "p50": float("nan"),
            "p99": float("nan"),
            "p999": float("nan"),
            "rss_mib": r["peakRssKiB"] / 1024,
            "failed": 0,
            "fair": True,
        }
        key = (r["side"], "drain", int(r.get("threads", 0)))
        if key not in best or run["rate"] > best[key]["rate"]:
            best[key] = run


def fmt(v, decimals):
    return "-" if v != v else f"{v:.{decimals}f}"


def main():
    run_dir = sys.argv[1]
    best = producer_runs(os.path.join(run_dir, "producer"))
    drain_runs(os.path.join(run_dir, "consumer", "drain.jsonl"), best)
    phases = sorted({(m, c) for (_, m, c) in best if _ in ("ours", "ours-rmq")},
                    key=lambda p: (MODES.index(p[0]) if p[0] in MODES else len(MODES), p[1]))
    head = (f"{'phase':<12} {'client':<17} {'msg/s':>9} {'CPU s/100k':>10} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'p99.9 ms':>8} {'RSS MiB':>8} | {'ours/client: thr':>16} {'CPU':>5} {'p99':>5} {'RSS':>5}")
    print(head)
    print("-" * len(head))
    for mode, conc in phases:
        label = {"sync": f"sync c={conc}", "async": f"async w={conc}", "oneway": f"oneway c={conc}",
                 "batch": f"batch t={conc}", "paced": f"paced c={conc}", "drain": f"drain {conc}thr"}[mode]
        for side in ORDER:
            if mode in ("sync", "paced", "drain"):
                run = best.get((side, mode, conc))
            else:
                run = next((r for (s, m, _), r in sorted(best.items()) if s == side and m == mode), None)
            if run is None:
                continue
            ours = best.get(("ours-rmq" if side == "java" else "ours", mode, conc)) if mode != "drain" \
                else best.get(("ours", mode, conc))
            ratios = ["", "", "", ""]
            if not run["fair"]:
                # A oneway send cannot fail: what the broker did not store is counted instead.
                what = "not stored" if mode == "oneway" else "failed"
                ratios = [f"{run['failed']:.0f} {what}", "-", "-", "-"]
            elif ours and not side.startswith("ours"):
                ratios = [fmt(ours["rate"] / run["rate"], 2), fmt(ours["cpu100k"] / run["cpu100k"], 2),
                          fmt(ours["p99"] / run["p99"], 2), fmt(ours["rss_mib"] / run["rss_mib"], 2)]
            name = NAMES[side]
            if mode == "drain":
                name = {"java": "Java", "ours": "ours"}.get(side, name)
            print(f"{label:<12} {name:<17} {run['rate']:>9.0f} {fmt(run['cpu100k'], 2):>10} "
                  f"{fmt(run['p50'], 2):>7} {fmt(run['p99'], 2):>7} {fmt(run['p999'], 2):>8} "
                  f"{fmt(run['rss_mib'], 1):>8} | {ratios[0]:>16} {ratios[1]:>5} {ratios[2]:>5} {ratios[3]:>5}")
            label = ""
    idle = os.path.join(run_dir, "producer", "idle.tsv")
    if os.path.exists(idle):
        sizes = [f"{l.split()[1]} {number(l.split()[2]) / 1024:.1f} MiB" for l in open(idle) if l.startswith("idle")]
        print(f"idle producer RSS (ours): {', '.join(sizes)}")


if __name__ == "__main__":
    main()
