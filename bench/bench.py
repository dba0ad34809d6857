#!/usr/bin/env python3
"""Measure every figure of the benchmark page against Lambent and serverless-offline, then print
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
                raise RuntimeError("lambent serve did not become ready within 20 s. Run it by "
                                   f"hand to see why: {' '.join(command)}")
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
        raise RuntimeError(f"invoke_bench printed no result (exit code {result.returncode}): "
                           f"{' '.join(command)}")
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


def warm_phase(server, code, args, results, suffix):
    server.deploy("bench-python", code / "python", "python3.12", "app.handler")
    results["warm_c1"] = server.bench("--function", "bench-python", "--concurrency", 1,
                                      "--seconds", args.seconds)
    results["warm_c16"] = server.bench("--function", "bench-python", "--concurrency", 16,
                                       "--seconds", args.seconds)


def cold_phase(server, code, args, results, suffix):
    server.deploy("cold-python", code / "python", "python3.12", "app.handler")
    server.deploy("cold-node", code / "node", "nodejs20.x", "app.handler")
    results[f"cold_python{suffix}"] = server.bench(
        "--function", "cold-python", "--cold", args.cold_starts)
    results[f"cold_node{suffix}"] = server.bench(
        "--function", "cold-node", "--cold", args.cold_starts)


def burst_phase(server, code, args, results, suffix):
    server.bench("--prefix", "burst-", "--create", args.burst_rounds, "--zip", code / "python.zip")
    results[f"burst{suffix}"] = server.bench(
        "--prefix", "burst-", "--burst", args.burst, "--rounds", args.burst_rounds)

    # Idle memory is read while many environments of one runtime are alive, as on a busy host,
    # because then the interpreter's file pages are shared and do not count as unique.
    server.bench("--prefix", "memory-node-", "--create", 1, "--zip", code / "node.zip",
                 "--runtime", "nodejs20.x", "--handler", "app.handler")
    server.bench("--prefix", "memory-node-", "--burst", 8)
    # This server runs Python environments for burst-N and Node.js ones for memory-node-0 only.
    for runtime in ("python", "node"):
        runtime_trees = procmem.lambent_environment_trees(server.pid, runtime)
        if runtime_trees:
            results[f"memory_{runtime}{suffix}"] = procmem.median_memory(runtime_trees)


def spread_phase(server, code, args, results, suffix):
    server.bench("--prefix", "spread-", "--create", args.environments,
                 "--zip", code / "python.zip")
    results[f"spread{suffix}"] = server.bench(
        "--prefix", "spread-", "--first", args.environments,
        "--concurrency", args.spread_concurrency)


def async_phase(server, code, args, results, suffix):
    server.deploy("async-python", code / "python", "python3.12", "app.handler")
    results["async"] = server.bench("--function", "async-python", "--async",
                                    "--concurrency", args.async_concurrency,
                                    "--seconds", args.seconds)


def aws_cli():
    """Return the AWS CLI v2 to run. Debian's is /usr/bin/aws, and an AWS CLI v1 earlier on
    PATH would not do."""
    return "/usr/bin/aws" if Path("/usr/bin/aws").exists() else "aws"


def gateway_phase(server, code, args, results, suffix):
    """Measure unsigned GETs through an HTTP API quick-created with the AWS CLI, at its path
    form /_aws/execute-api/{id}/..., which needs no DNS."""
    server.deploy("gateway-python", code / "python", "python3.12", "app.handler")
    cli = [aws_cli(), "--endpoint-url", server.endpoint, "--output", "text"]
    arn = server.run(*cli, "lambda", "get-function", "--function-name", "gateway-python",
                     "--query", "Configuration.FunctionArn").stdout.strip()
    api_id = server.run(*cli, "apigatewayv2", "create-api", "--name", "bench",
                        "--protocol-type", "HTTP", "--target", arn,
                        "--query", "ApiId").stdout.strip()
    target = f"/_aws/execute-api/{api_id}{offline.GATEWAY_PATH}"
    results["gateway_c1"] = server.bench("--get", target, "--concurrency", 1,
                                         "--seconds", args.seconds)
    results["gateway_c16"] = server.bench("--get", target, "--concurrency", 16,
                                          "--seconds", args.seconds)


def run_phase(title, phase, build, server_args, code, args, results, suffix=""):
    """Run one phase on a server of its own. A failed phase is logged and leaves its figures
    out of the table, so the other phases still run."""
    log(f"lambent{suffix}: {title}")
    try:
        server = LambentServer(build, [*server_args, *args.serve_arg])
    except (OSError, RuntimeError, subprocess.SubprocessError) as error:
        log(f"lambent{suffix}: {title} failed: {error}")
        return
    try:
        phase(server, code, args, results, suffix)
    except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as error:
        stderr = getattr(error, "stderr", None)
        log(f"lambent{suffix}: {title} failed: {error}{': ' + stderr if stderr else ''}")
    finally:
        server.stop()


def measure_lambent(build, code, args, results):
    """Measure Lambent in the phases of args.phases and store each figure in results by key."""
    if "warm" in args.phases:
        run_phase("warm invokes", warm_phase, build, [], code, args, results)
    for mode in cold_start_modes(build):
        suffix = f" ({mode})" if mode else ""
        extra = ["--cold-start", mode] if mode else []
        if "cold" in args.phases:
            run_phase("cold starts", cold_phase, build, extra, code, args, results, suffix)
        if "burst" in args.phases:
            burst_limit = args.burst * args.burst_rounds + 16
            run_phase(f"burst of {args.burst} into an empty pool, idle memory", burst_phase,
                      build, [*extra, "--max-environments", str(burst_limit)], code, args,
                      results, suffix)
        if "spread" in args.phases:
            run_phase(f"{args.environments} new environments", spread_phase, build,
                      [*extra, "--max-environments", str(args.environments + 8)],
                      code, args, results, suffix)
    if "async" in args.phases:
        run_phase("async enqueue", async_phase, build, [], code, args, results)
    if "gateway" in args.phases:
        run_phase("HTTP API (gateway) requests", gateway_phase, build, [], code, args, results)


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


def build_rows(lambent_figures, offline_figures, modes):
    """Return (figure, Lambent value, serverless-offline value, unit, target) rows."""
    def value(figures, key, field, scale):
        entry = figures.get(key) if key else None
        if entry is None:
            return None
        if isinstance(entry, procmem.TreeMemory):
            return getattr(entry, field) * scale
        return entry[field] * scale

    rows = []

    def add(figure, key, field, unit, target="", offline_key=None, scale=1.0):
        rows.append((figure, value(lambent_figures, key, field, scale),
                     value(offline_figures, offline_key, field, scale), unit, target))

    add("warm invoke c=1, p50", "warm_c1", "p50_us", "us", "overhead p50 ≤ 100 µs", "warm_c1")
    add("warm invoke c=1, p99", "warm_c1", "p99_us", "us", "overhead p99 ≤ 500 µs", "warm_c1")
    add("warm throughput c=16", "warm_c16", "throughput_per_s", "/s", "≥ 8,000/s", "warm_c16")
    add("warm c=16, p99", "warm_c16", "p99_us", "us", "", "warm_c16")
    megabytes = 1 / 1024
    for mode in modes:
        suffix = f" ({mode})" if mode else ""
        for runtime, name, target in (("python", "Python", "p50 ≤ 2 ms (zygote)"),
                                      ("node", "Node.js", "p50 ≤ 30 ms")):
            key = f"cold_{runtime}{suffix}"
            add(f"cold {name}{suffix}, Init Duration p50", key, "init_p50_ms", "ms", target)
            add(f"cold {name}{suffix}, Init Duration p99", key, "init_p99_ms", "ms")
            add(f"cold {name}{suffix}, end to end p50", key, "end_to_end_p50_ms", "ms", "",
                f"cold_{runtime}")
            add(f"cold {name}{suffix}, end to end p99", key, "end_to_end_p99_ms", "ms", "",
                f"cold_{runtime}")
        key = f"burst{suffix}"
        add(f"burst into empty pool{suffix}, p50", key, "p50_ms", "ms", "", "burst")
        add(f"burst into empty pool{suffix}, p99", key, "p99_ms", "ms", "p99 ≤ 50 ms", "burst")
        add(f"burst into empty pool{suffix}, succeeded", key, "succeeded", "ok", "all", "burst")
        add(f"new environments{suffix}", f"spread{suffix}", "rate_per_s", "/s", "≥ 500/s")
        for runtime, name in (("python", "Python"), ("node", "Node.js")):
            key = f"memory_{runtime}{suffix}"
            offline_key = "memory_python" if runtime == "python" else None
            add(f"idle memory {name}{suffix}, USS", key, "uss_kb", "MB", "≤ 5 MB unique",
                offline_key, megabytes)
            add(f"idle memory {name}{suffix}, private dirty", key, "private_dirty_kb", "MB", "",
                offline_key, megabytes)
            add(f"idle memory {name}{suffix}, RSS", key, "rss_kb", "MB", "",
                offline_key, megabytes)
    add("async enqueue (Event, signed)", "async", "rate_per_s", "/s", "≥ 50,000/s")
    add("gateway GET c=1, p50", "gateway_c1", "p50_us", "us", "", "gateway_c1")
    add("gateway GET c=1, p99", "gateway_c1", "p99_us", "us", "", "gateway_c1")
    add("gateway throughput c=16", "gateway_c16", "throughput_per_s", "/s", "", "gateway_c16")
    add("gateway c=16, p99", "gateway_c16", "p99_us", "us", "", "gateway_c16")
    return rows


def notes(lambent_figures, offline_figures, modes, phases):
    """Return the caveats a reader of the table needs for the phases run, with the process
    counts measured."""
    lines = [
        "every latency and rate includes client overhead: invoke_bench (C++, one blocking "
        "keep-alive connection per thread) runs on the same cores as the server",
    ]
    if "cold" in phases:
        lines.append("Lambent cold starts follow a configuration update that retires the warm "
                     "environment; serverless-offline's are first invokes of functions never "
                     "invoked before")
    if phases & {"warm", "cold", "burst"}:
        lines.append("serverless-offline runs each Python instance as a shell and a python3 "
                     "process, and Node.js handlers in worker threads of its own Node.js process")
    if "async" in phases:
        lines.append("async enqueue runs while the dispatcher executes the queued events on the "
                     "same cores")
    if "burst" in phases:
        lines.append("memory is the median over idle environments, read from "
                     "/proc/PID/smaps_rollup while many environments of the runtime were alive, "
                     "so shared file pages are not unique")
    if "gateway" in phases:
        lines.append("gateway rows are unsigned GETs of one route to the Python handler: on "
                     "Lambent an HTTP API quick-created with the AWS CLI, by its path form; on "
                     "serverless-offline an httpApi event on its HTTP port")
    for mode in modes:
        suffix = f" ({mode})" if mode else ""
        for runtime in ("python", "node"):
            memory = lambent_figures.get(f"memory_{runtime}{suffix}")
            if memory:
                lines.append(f"Lambent {runtime}{suffix} environment: "
                             f"{memory.processes:.0f} processes")
    if "memory_python" in offline_figures:
        lines.append(f"serverless-offline Python instance: "
                     f"{offline_figures['memory_python'].processes:.0f} processes")
    return lines


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


PHASES = ("warm", "cold", "burst", "spread", "async", "gateway")


def parse_phases(text):
    """Return the set of phase names in a comma-separated list, or raise for an unknown one."""
    phases = {name.strip() for name in text.split(",") if name.strip()}
    unknown = phases - set(PHASES)
    if unknown or not phases:
        named = ", ".join(sorted(unknown)) if unknown else "(none)"
        raise argparse.ArgumentTypeError(
            f"invalid phase {named}: expected a comma-separated list of {', '.join(PHASES)}")
    return phases


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=os.environ.get("LAMBENT_BUILD_DIR", "build/release"))
    parser.add_argument("--seconds", type=float, default=5,
                        help="length of each warm and async run, in seconds")
    parser.add_argument("--cold-starts", type=int, default=30, help="cold starts per runtime")
    parser.add_argument("--burst", type=int, default=64, help="simultaneous calls in a burst")
    parser.add_argument("--burst-rounds", type=int, default=3,
                        help="bursts, each into a new function")
    parser.add_argument("--environments", type=int, default=128,
                        help="functions started once each for the new-environments rate")
    parser.add_argument("--spread-concurrency", type=int, default=16,
                        help="connections starting those environments")
    parser.add_argument("--async-concurrency", type=int, default=32,
                        help="connections sending Event invokes")
    parser.add_argument("--skip-offline", action="store_true", help="measure Lambent only")
    parser.add_argument("--only", type=parse_phases, default=set(PHASES), dest="phases",
                        metavar="PHASE[,PHASE...]",
                        help=f"run only these phases, on both sides: {', '.join(PHASES)} "
                             "(default: all)")
    parser.add_argument("--serve-arg", action="append", default=[],
                        help="an extra `lambent serve` argument for every phase (repeatable), "
                             "e.g. --serve-arg=--max-starting=16")
    args = parser.parse_args()

    build = (ROOT / args.build_dir).resolve()
    started = time.monotonic()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    with tempfile.TemporaryDirectory(prefix="lambent-bench-code-") as folder:
        code = Path(folder)
        make_code(code)
        lambent_figures, offline_figures = {}, {}
        measure_lambent(build, code, args, lambent_figures)
        if args.skip_offline:
            log("serverless-offline: skipped (--skip-offline)")
        else:
            offline.measure(build, code, args, offline_figures, log, run_bench)
    modes = cold_start_modes(build)
    load_after = Path("/proc/loadavg").read_text().split()[:3]

    print(f"\nLambent vs serverless-offline, {os.cpu_count()} cores, trivial handlers, "
          f"loopback; load average {' '.join(load_before)} before, {' '.join(load_after)} after; "
          f"{time.monotonic() - started:.0f} s")
    print("ratio = Lambent / serverless-offline (below 1 is better for latency and memory, "
          "above 1 for rates)\n")
    rows = build_rows(lambent_figures, offline_figures, modes)
    if args.phases != set(PHASES):
        # Leave out the rows of phases not run. A failed phase still shows "-" when all run.
        rows = [row for row in rows if row[1] is not None or row[2] is not None]
    print_table(rows)
    print()
    for note in notes(lambent_figures, offline_figures, modes, args.phases):
        print(f"note: {note}")
    for side, figures in (("Lambent", lambent_figures), ("serverless-offline", offline_figures)):
        for key, result in figures.items():
            if isinstance(result, dict) and result.get("errors"):
                print(f"note: {side} {key} had {result['errors']:.0f} failed calls")


if __name__ == "__main__":
    main()
