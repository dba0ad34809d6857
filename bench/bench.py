#!/usr/bin/env python3
"""Run every figure of the benchmark page against Lambent and serverless-offline, then print
one table with both, their ratio and the design target.

Each Lambent phase runs on a throwaway server of its own (SigV4 on, 127.0.0.1, port 0), so one
phase's environments and queued events do not load the next. bench/run.sh builds the binaries
and calls this script; see docs/benchmarks.md for what each figure means.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import offline
import procmem

ROOT = Path(__file__).resolve().parent.parent

PYTHON_HANDLER = 'def handler(event, context):\n    return {"ok": True}\n'
NODE_HANDLER = "export const handler = async () => ({ ok: true });\n"


def log(message):
    print(message, file=sys.stderr, flush=True)


class LambentServer:
    """A `lambent serve` process with a temporary data directory, stopped by its pid."""

    def __init__(self, build, extra_args=()):
        self.build = build
        self.data = Path(tempfile.mkdtemp(prefix="lambent-bench-"))
        ready = self.data.with_suffix(".ready")
        command = [str(build / "lambent"), "serve", "--listen", "127.0.0.1:0",
                   "--data-dir", str(self.data), "--ready-file", str(ready),
                   "--log-level", "warn", *extra_args]
        self.process = subprocess.Popen(command)
        self.pid = self.process.pid
        deadline = time.monotonic() + 20
        while not (ready.exists() and ready.read_text().strip()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"lambent serve did not become ready: {' '.join(command)}")
            time.sleep(0.02)
        port = ready.read_text().strip()
        ready.unlink()
        self.endpoint = f"http://127.0.0.1:{port}"
        exports = subprocess.run(
            [str(build / "lambent"), "env", "--data-dir", str(self.data),
             "--listen", f"127.0.0.1:{port}"],
            check=True, capture_output=True, text=True).stdout
        self.env = dict(os.environ)
        for line in exports.splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            self.env[name] = value

    def run(self, *args, check=True):
        return subprocess.run(list(args), env=self.env, check=check,
                              capture_output=True, text=True, timeout=300)

    def deploy(self, name, folder, runtime, handler):
        self.run(str(self.build / "lambent"), "deploy", name, str(folder),
                 "--runtime", runtime, "--handler", handler)

    def bench(self, *args):
        """Run invoke_bench against this server and return its JSON result."""
        return run_bench(self.build, self.endpoint, self.env, args)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.data, ignore_errors=True)


def run_bench(build, endpoint, env, args):
    command = [str(build / "invoke_bench"), "--endpoint", endpoint, "--json", *map(str, args)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    if result.stderr:
        log(result.stderr.rstrip())
    lines = result.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"{' '.join(command)} printed nothing (exit {result.returncode})")
    return json.loads(lines[-1])


def make_code(folder):
    """Write the trivial handlers and the zip invoke_bench --create uploads."""
    (folder / "python").mkdir()
    (folder / "python" / "app.py").write_text(PYTHON_HANDLER)
    (folder / "node").mkdir()
    (folder / "node" / "app.mjs").write_text(NODE_HANDLER)
    with zipfile.ZipFile(folder / "python.zip", "w") as archive:
        archive.write(folder / "python" / "app.py", "app.py")
    with zipfile.ZipFile(folder / "node.zip", "w") as archive:
        archive.write(folder / "node" / "app.mjs", "app.mjs")


def cold_start_modes(build):
    """Return the values of `lambent serve --cold-start` to measure, or [None] for a server
    that has one cold-start path only."""
    help_text = subprocess.run([str(build / "lambent"), "serve", "--help"],
                               capture_output=True, text=True).stdout
    return ["zygote", "exec"] if "--cold-start" in help_text else [None]


def measure_lambent(build, code, args, results):
    """Fill results[key] with Lambent's figures."""
    log("lambent: warm invokes")
    server = LambentServer(build)
    try:
        server.deploy("bench-python", code / "python", "python3.12", "app.handler")
        results["warm_c1"] = server.bench("--function", "bench-python", "--concurrency", 1,
                                          "--seconds", args.seconds)
        results["warm_c16"] = server.bench("--function", "bench-python", "--concurrency", 16,
                                           "--seconds", args.seconds)
    finally:
        server.stop()

    for mode in cold_start_modes(build):
        suffix = f" ({mode})" if mode else ""
        extra = ["--cold-start", mode] if mode else []
        log(f"lambent{suffix}: cold starts")
        server = LambentServer(build, extra)
        try:
            server.deploy("cold-python", code / "python", "python3.12", "app.handler")
            server.deploy("cold-node", code / "node", "nodejs20.x", "app.handler")
            results[f"cold_python{suffix}"] = server.bench(
                "--function", "cold-python", "--cold", args.cold_starts)
            results[f"cold_node{suffix}"] = server.bench(
                "--function", "cold-node", "--cold", args.cold_starts)
        finally:
            server.stop()

        log(f"lambent{suffix}: burst of {args.burst} into an empty pool, idle memory")
        burst_limit = args.burst * args.burst_rounds + 8
        server = LambentServer(build, [*extra, "--max-environments", str(burst_limit)])
        try:
            server.bench("--prefix", "burst-", "--create", args.burst_rounds,
                         "--zip", code / "python.zip")
            results[f"burst{suffix}"] = server.bench(
                "--prefix", "burst-", "--burst", args.burst, "--rounds", args.burst_rounds)
            # Idle memory is read with many environments of one runtime alive, as on a busy
            # host: then the interpreter's file pages are shared and leave the unique figures.
            server.bench("--prefix", "memory-node-", "--create", 1, "--zip", code / "node.zip",
                         "--runtime", "nodejs20.x", "--handler", "app.handler")
            server.bench("--prefix", "memory-node-", "--burst", 8)
            trees = {"python": [], "node": []}
            for round_index in range(args.burst_rounds):
                trees["python"] += procmem.lambent_environment_trees(server.pid,
                                                                     f"burst-{round_index}")
            trees["node"] = procmem.lambent_environment_trees(server.pid, "memory-node-0")
            for runtime, runtime_trees in trees.items():
                if runtime_trees:
                    results[f"memory_{runtime}{suffix}"] = procmem.median_memory(runtime_trees)
        finally:
            server.stop()

        log(f"lambent{suffix}: {args.environments} new environments")
        server = LambentServer(build, [*extra, "--max-environments", str(args.environments + 8)])
        try:
            server.bench("--prefix", "spread-", "--create", args.environments,
                         "--zip", code / "python.zip")
            results[f"spread{suffix}"] = server.bench(
                "--prefix", "spread-", "--first", args.environments,
                "--concurrency", args.spread_concurrency)
        finally:
            server.stop()

    log("lambent: async enqueue")
    server = LambentServer(build)
    try:
        server.deploy("async-python", code / "python", "python3.12", "app.handler")
        results["async"] = server.bench("--function", "async-python", "--async",
                                        "--concurrency", args.async_concurrency,
                                        "--seconds", args.seconds)
    finally:
        server.stop()


def fmt_number(value, unit):
    if value is None:
        return "-"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit == "ok":
        return f"{value:.0f}"
    if unit == "us":
        return f"{value:,.0f} µs"
    return f"{value:.2f} {unit}"


def build_rows(lam, sls, modes):
    """Return (figure, Lambent value, serverless-offline value, unit, target) rows."""
    def get(results, key, field, scale=1.0):
        entry = results.get(key)
        if entry is None:
            return None
        value = getattr(entry, field) if isinstance(entry, procmem.TreeMemory) else entry[field]
        return value * scale

    rows = [
        ("warm invoke c=1, p50", get(lam, "warm_c1", "p50_us"), get(sls, "warm_c1", "p50_us"),
         "us", "overhead p50 ≤ 100 µs"),
        ("warm invoke c=1, p99", get(lam, "warm_c1", "p99_us"), get(sls, "warm_c1", "p99_us"),
         "us", "overhead p99 ≤ 500 µs"),
        ("warm throughput c=16", get(lam, "warm_c16", "throughput_per_s"),
         get(sls, "warm_c16", "throughput_per_s"), "/s", "≥ 8,000/s"),
        ("warm c=16, p99", get(lam, "warm_c16", "p99_us"), get(sls, "warm_c16", "p99_us"),
         "us", ""),
    ]
    for mode in modes:
        s = f" ({mode})" if mode else ""
        rows += [
            (f"cold Python{s}, Init Duration p50", get(lam, f"cold_python{s}", "init_p50_ms"),
             None, "ms", "p50 ≤ 2 ms (zygote)"),
            (f"cold Python{s}, Init Duration p99", get(lam, f"cold_python{s}", "init_p99_ms"),
             None, "ms", ""),
            (f"cold Python{s}, end to end p50", get(lam, f"cold_python{s}", "end_to_end_p50_ms"),
             get(sls, "cold_python", "end_to_end_p50_ms"), "ms", ""),
            (f"cold Python{s}, end to end p99", get(lam, f"cold_python{s}", "end_to_end_p99_ms"),
             get(sls, "cold_python", "end_to_end_p99_ms"), "ms", ""),
            (f"cold Node.js{s}, Init Duration p50", get(lam, f"cold_node{s}", "init_p50_ms"),
             None, "ms", "p50 ≤ 30 ms"),
            (f"cold Node.js{s}, Init Duration p99", get(lam, f"cold_node{s}", "init_p99_ms"),
             None, "ms", ""),
            (f"cold Node.js{s}, end to end p50", get(lam, f"cold_node{s}", "end_to_end_p50_ms"),
             get(sls, "cold_node", "end_to_end_p50_ms"), "ms", ""),
            (f"cold Node.js{s}, end to end p99", get(lam, f"cold_node{s}", "end_to_end_p99_ms"),
             get(sls, "cold_node", "end_to_end_p99_ms"), "ms", ""),
            (f"burst into empty pool{s}, p50", get(lam, f"burst{s}", "p50_ms"),
             get(sls, "burst", "p50_ms"), "ms", ""),
            (f"burst into empty pool{s}, p99", get(lam, f"burst{s}", "p99_ms"),
             get(sls, "burst", "p99_ms"), "ms", "p99 ≤ 50 ms"),
            (f"burst into empty pool{s}, succeeded", get(lam, f"burst{s}", "succeeded"),
             get(sls, "burst", "succeeded"), "ok", "all"),
            (f"new environments{s}", get(lam, f"spread{s}", "rate_per_s"), None, "/s", "≥ 500/s"),
            (f"idle memory Python{s}, USS", get(lam, f"memory_python{s}", "uss_kb", 1 / 1024),
             get(sls, "memory_python", "uss_kb", 1 / 1024), "MB", "≤ 5 MB unique"),
            (f"idle memory Python{s}, private dirty",
             get(lam, f"memory_python{s}", "private_dirty_kb", 1 / 1024),
             get(sls, "memory_python", "private_dirty_kb", 1 / 1024), "MB", ""),
            (f"idle memory Python{s}, RSS", get(lam, f"memory_python{s}", "rss_kb", 1 / 1024),
             get(sls, "memory_python", "rss_kb", 1 / 1024), "MB", ""),
            (f"idle memory Node.js{s}, USS", get(lam, f"memory_node{s}", "uss_kb", 1 / 1024),
             None, "MB", "≤ 5 MB unique"),
            (f"idle memory Node.js{s}, private dirty",
             get(lam, f"memory_node{s}", "private_dirty_kb", 1 / 1024),
             None, "MB", ""),
            (f"idle memory Node.js{s}, RSS", get(lam, f"memory_node{s}", "rss_kb", 1 / 1024),
             None, "MB", ""),
        ]
    rows.append(("async enqueue (Event, signed)", get(lam, "async", "rate_per_s"), None, "/s",
                 "≥ 50,000/s"))
    return rows


def print_table(rows):
    header = ("figure", "Lambent", "serverless-offline", "ratio", "DESIGN target")
    table = [header]
    for figure, mine, theirs, unit, target in rows:
        ratio = f"{mine / theirs:.2f}" if mine is not None and theirs else "-"
        table.append((figure, fmt_number(mine, unit), fmt_number(theirs, unit), ratio, target))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for index, row in enumerate(table):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=os.environ.get("LAMBENT_BUILD_DIR", "build/release"))
    parser.add_argument("--seconds", type=float, default=5, help="length of each warm and async run, s")
    parser.add_argument("--cold-starts", type=int, default=30, help="cold starts per runtime")
    parser.add_argument("--burst", type=int, default=64, help="simultaneous calls in a burst")
    parser.add_argument("--burst-rounds", type=int, default=3, help="bursts, each into a new function")
    parser.add_argument("--environments", type=int, default=128,
                        help="functions started once each for the new-environments rate")
    parser.add_argument("--spread-concurrency", type=int, default=16,
                        help="connections starting those environments")
    parser.add_argument("--async-concurrency", type=int, default=32,
                        help="connections sending Event invokes")
    parser.add_argument("--skip-offline", action="store_true", help="measure Lambent only")
    args = parser.parse_args()

    build = (ROOT / args.build_dir).resolve()
    started = time.monotonic()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    with tempfile.TemporaryDirectory(prefix="lambent-bench-code-") as folder:
        code = Path(folder)
        make_code(code)
        lam, sls = {}, {}
        measure_lambent(build, code, args, lam)
        if args.skip_offline:
            log("serverless-offline: skipped (--skip-offline)")
        else:
            offline.measure(build, code, args, sls, log, run_bench)
    modes = cold_start_modes(build)
    load_after = Path("/proc/loadavg").read_text().split()[:3]

    print(f"\nLambent vs serverless-offline, {os.cpu_count()} cores, trivial handlers, "
          f"loopback; load average {' '.join(load_before)} before, {' '.join(load_after)} after; "
          f"{time.monotonic() - started:.0f} s")
    print("ratio = Lambent / serverless-offline (below 1 is better for latency and memory, "
          "above 1 for rates)\n")
    print_table(build_rows(lam, sls, modes))
    failures = [(k, v) for k, v in {**lam, **{f"offline {k}": v for k, v in sls.items()}}.items()
                if isinstance(v, dict) and v.get("errors")]
    for key, value in failures:
        print(f"note: {key} had {value['errors']:.0f} failed calls")


if __name__ == "__main__":
    main()
