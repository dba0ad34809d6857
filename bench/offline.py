"""serverless-offline side of the benchmark.

It installs osls (the maintained fork of the Serverless Framework v3) and serverless-offline 13
from npm into a cache folder outside the repository. Then it serves the same trivial handlers
with `osls offline` on free loopback ports and measures them with invoke_bench through
serverless-offline's Lambda Invoke endpoint, and the Python handler through its HTTP endpoint
(an `httpApi` event) for the gateway figures.
"""
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import procmem

CACHE = Path(os.environ.get("LAMBENT_BENCH_CACHE", Path.home() / ".cache" / "lambent-bench"))
PACKAGES = ["osls@4", "serverless-offline@13"]
SERVICE = "bench"
STAGE = "dev"
# The route of the gateway figures. serverless-offline serves httpApi events at this path on
# its HTTP port, with no stage prefix.
GATEWAY_PATH = "/ping"


def _installed():
    modules = CACHE / "node_modules"
    return ((modules / "osls" / "bin" / "serverless.js").exists()
            and (modules / "serverless-offline" / "package.json").exists())


def install(log):
    """Install the npm packages once. Return False, after logging why, when that fails."""
    if _installed():
        return True
    for tool in ("node", "npm"):
        if not any((Path(folder) / tool).exists() for folder in os.environ["PATH"].split(":")):
            log(f"serverless-offline: skipped, `{tool}` is not on PATH")
            return False
    CACHE.mkdir(parents=True, exist_ok=True)
    if not (CACHE / "package.json").exists():
        (CACHE / "package.json").write_text('{"name": "lambent-bench-cache", "private": true}\n')
    log(f"serverless-offline: npm install {' '.join(PACKAGES)} into {CACHE} (once)")
    try:
        result = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--fetch-retries=1",
                                 "--fetch-timeout=60000", *PACKAGES],
                                cwd=CACHE, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        log("serverless-offline: skipped, npm install timed out after 600 s (network?)")
        return False
    if result.returncode != 0 or not _installed():
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        log(f"serverless-offline: skipped, npm install failed (network?):\n{tail}")
        return False
    return True


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_service(folder, python_handler, node_handler, args):
    """Write serverless.yml with one function per cold start and per burst round, because
    serverless-offline starts a new instance only for a function with none idle. The Python
    handler is also served at GET GATEWAY_PATH as a function of its own, so the HTTP figures
    have an instance of their own."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(python_handler)
    (folder / "app_node.mjs").write_text(node_handler)
    lines = [
        f"service: {SERVICE}",
        "provider:",
        "  name: aws",
        "  runtime: python3.12",
        "  region: us-east-1",
        f"  stage: {STAGE}",
        "plugins:",
        "  - serverless-offline",
        "functions:",
        "  python:",
        "    handler: app.handler",
        "  http:",
        "    handler: app.handler",
        "    events:",
        "      - httpApi:",
        f"          path: {GATEWAY_PATH}",
        "          method: GET",
    ]
    for index in range(args.cold_starts):
        lines += [f"  pycold{index}:", "    handler: app.handler"]
        lines += [f"  nodecold{index}:", "    handler: app_node.handler",
                  "    runtime: nodejs20.x"]
    for index in range(args.burst_rounds):
        lines += [f"  burst{index}:", "    handler: app.handler"]
    (folder / "serverless.yml").write_text("\n".join(lines) + "\n")


def wait_for_port(port, process, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def stop(process):
    """Stop osls and the Python instances it started: its own process group, by its pid."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def measure(build, code, args, results, log, run_bench):
    """Fill results with serverless-offline's figures, or leave it empty when it is skipped.
    code is the folder with python/app.py and node/app.mjs, and run_bench runs invoke_bench."""
    if not install(log):
        return
    service = CACHE / "service"
    write_service(service, (code / "python" / "app.py").read_text(),
                  (code / "node" / "app.mjs").read_text(), args)
    lambda_port, http_port = free_port(), free_port()
    command = ["node", str(CACHE / "node_modules" / "osls" / "bin" / "serverless.js"), "offline",
               "--host", "127.0.0.1", "--httpPort", str(http_port),
               "--lambdaPort", str(lambda_port), "--websocketPort", str(free_port()),
               "--albPort", str(free_port())]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # serverless-offline runs "python3" from PATH for python3.x, and Lambent runs /usr/bin/python3.
    env["PATH"] = "/usr/bin:" + env.get("PATH", "")
    env.update(SLS_TELEMETRY_DISABLED="1", SLS_NOTIFICATIONS_MODE="off",
               SLS_DEPRECATION_DISABLE="*", SERVERLESS_PLATFORM_STAGE="", CI="1")
    output = open(CACHE / "offline.log", "w")
    log(f"serverless-offline: starting osls offline (log in {CACHE / 'offline.log'})")
    process = subprocess.Popen(command, cwd=service, env=env, stdout=output,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if not wait_for_port(lambda_port, process, 90):
            log(f"serverless-offline: skipped, osls offline did not listen on {lambda_port}; "
                f"see {CACHE / 'offline.log'}")
            return
        endpoint = f"http://127.0.0.1:{lambda_port}"
        prefix = f"{SERVICE}-{STAGE}-"

        def bench(*arguments):
            return run_bench(build, endpoint, env, arguments)

        if "warm" in args.phases:
            log("serverless-offline: warm invokes")
            results["warm_c1"] = bench("--function", prefix + "python", "--concurrency", 1,
                                       "--seconds", args.seconds)
            results["warm_c16"] = bench("--function", prefix + "python", "--concurrency", 16,
                                        "--seconds", args.seconds)
        if "cold" in args.phases:
            log("serverless-offline: cold starts")
            results["cold_python"] = bench("--prefix", prefix + "pycold",
                                           "--first", args.cold_starts)
            results["cold_node"] = bench("--prefix", prefix + "nodecold",
                                         "--first", args.cold_starts)
        if "burst" in args.phases:
            log(f"serverless-offline: burst of {args.burst} into an empty pool")
            results["burst"] = bench("--prefix", prefix + "burst", "--burst", args.burst,
                                     "--rounds", args.burst_rounds)
            # Every Python instance is idle now. Each is a shell and its python3 child.
            trees = procmem.child_trees_with(process.pid, "python")
            if trees:
                results["memory_python"] = procmem.median_memory(trees)
                log(f"serverless-offline: {len(trees)} idle Python instances, "
                    f"{results['memory_python'].processes:.0f} processes each")
        if "gateway" in args.phases:
            log(f"serverless-offline: GET {GATEWAY_PATH} through its HTTP endpoint (httpApi)")
            if not wait_for_port(http_port, process, 30):
                raise RuntimeError(f"osls offline did not listen on its HTTP port {http_port}")
            http_endpoint = f"http://127.0.0.1:{http_port}"
            for key, concurrency in (("gateway_c1", 1), ("gateway_c16", 16)):
                results[key] = run_bench(build, http_endpoint, env,
                                         ("--get", GATEWAY_PATH, "--concurrency", concurrency,
                                          "--seconds", args.seconds))
    except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as error:
        log(f"serverless-offline: measurement failed, the rest is skipped: {error}")
    finally:
        stop(process)
        output.close()
