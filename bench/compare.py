#!/usr/bin/env python3
"""Compare the warm-invoke figures of two Lambent builds, for example before and after a change
to the invoke path.

Each round starts a fresh server of build A, then one of build B, deploys the trivial Python
handler, and runs invoke_bench at concurrency 1 and 16. The rounds alternate so that changes in
machine load fall on both builds alike. The summary gives the median of each figure over the
rounds and the ratio B / A.

    bench/compare.py --before /path/to/old/build/release --after build/release --rounds 5
"""
import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from bench import LambentServer, log, make_code

FIGURES = (
    ("c1 p50", "warm_c1", "p50_us", "µs"),
    ("c1 p99", "warm_c1", "p99_us", "µs"),
    ("c1 throughput", "warm_c1", "throughput_per_s", "/s"),
    ("c16 p50", "warm_c16", "p50_us", "µs"),
    ("c16 p99", "warm_c16", "p99_us", "µs"),
    ("c16 throughput", "warm_c16", "throughput_per_s", "/s"),
)


def measure(build, code, seconds):
    server = LambentServer(build)
    try:
        server.deploy("bench-python", code / "python", "python3.12", "app.handler")
        return {
            "warm_c1": server.bench("--function", "bench-python", "--concurrency", 1,
                                    "--seconds", seconds),
            "warm_c16": server.bench("--function", "bench-python", "--concurrency", 16,
                                     "--seconds", seconds),
        }
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="build directory A")
    parser.add_argument("--after", type=Path, required=True, help="build directory B")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (1-50)")
    parser.add_argument("--seconds", type=int, default=5,
                        help="length of each invoke_bench run, in seconds (1-60)")
    args = parser.parse_args()
    if not 1 <= args.rounds <= 50 or not 1 <= args.seconds <= 60:
        parser.error("--rounds must be 1-50 and --seconds 1-60")
    for build in (args.before, args.after):
        for binary in ("lambent", "invoke_bench"):
            if not (build / binary).exists():
                parser.error(f"{build / binary} is missing: build the release preset there")

    results = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="lambent-compare-") as folder:
        code = Path(folder)
        make_code(code)
        for round_number in range(1, args.rounds + 1):
            for side, build in (("before", args.before), ("after", args.after)):
                log(f"round {round_number}/{args.rounds}: {side} ({build})")
                results[side].append(measure(build.resolve(), code, args.seconds))

    print(f"{'figure':<16} {'before':>12} {'after':>12} {'after/before':>13}")
    for label, key, field, unit in FIGURES:
        before = statistics.median(r[key][field] for r in results["before"])
        after = statistics.median(r[key][field] for r in results["after"])
        print(f"{label:<16} {before:>10,.0f}{unit:>2} {after:>10,.0f}{unit:>2} "
              f"{after / before:>13.3f}")
    print(f"medians of {args.rounds} alternating rounds of {args.seconds} s each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
