"""What asyncio itself costs per future in bench.py's `send_async` window (not a test).

bench.py awaits `asyncio.gather(*[p.send_async(msg) for _ in range(256)])`: per message, the
event loop makes a future, gather adds a done-callback to it, and the package's completion
sets its result, which schedules the callback through the loop. This program does exactly that
with no I/O and no package (the futures are settled by a callback the loop runs), so its CPU
per future is the floor under any asyncio `send_async` at that window:

    python3 py/bench/asyncio_floor.py [--futures 200000] [--window 256]
"""

import argparse
import asyncio
import resource


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def floor(futures: int, window: int) -> float:
    loop = asyncio.get_running_loop()
    done = 0
    start = cpu()
    while done < futures:
        batch = [loop.create_future() for _ in range(min(window, futures - done))]

        def settle(batch=batch) -> None:
            for f in batch:
                f.set_result(None)

        loop.call_soon(settle)
        await asyncio.gather(*batch)
        done += len(batch)
    return (cpu() - start) / futures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--futures", type=int, default=200_000)
    ap.add_argument("--window", type=int, default=256)
    a = ap.parse_args()
    per = asyncio.run(floor(a.futures, a.window))
    print(f"create_future + gather + set_result, window {a.window}: {per * 1e6:.2f} us CPU per future")


if __name__ == "__main__":
    main()
