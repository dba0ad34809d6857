"""Tests for procmem's environment trees, on real process trees started by the test.

Run with: /usr/bin/python3 -m pytest -q bench/test_procmem.py (Linux, needs /proc).
"""
import os
import signal
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import procmem  # noqa: E402


def environment_variables(function, address):
    return {**os.environ, "AWS_LAMBDA_FUNCTION_NAME": function,
            "AWS_LAMBDA_RUNTIME_API": address}


def wait_for_descendants(process, count):
    """Wait up to 5 s until process has `count` descendants, and return them."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        descendants = procmem.subtree(process.pid, procmem.parent_pids())[1:]
        if len(descendants) >= count:
            return descendants
        time.sleep(0.02)
    pytest.fail(f"process {process.pid} did not start {count} children within 5 s")


@pytest.fixture
def started():
    processes = []
    yield processes
    for process in processes:
        for pid in procmem.subtree(process.pid, procmem.parent_pids())[1:]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.kill()
        process.wait()


def test_tree_includes_parent_with_same_address(started):
    # A shell and its sleep child share one environment's variables.
    shell = subprocess.Popen(["sh", "-c", "sleep 30; true"],
                             env=environment_variables("fn-a", "127.0.0.1:1001"))
    started.append(shell)
    children = wait_for_descendants(shell, 1)
    trees = procmem.lambent_environment_trees(os.getpid(), "fn-a")
    assert len(trees) == 1
    assert sorted(trees[0]) == sorted([shell.pid, *children])


def test_shared_parent_without_address_is_left_out(started):
    # A zygote-like shell without the variables starts two environments of one function.
    script = ("env AWS_LAMBDA_FUNCTION_NAME=fn-b AWS_LAMBDA_RUNTIME_API=127.0.0.1:2001 sleep 30 &"
              " env AWS_LAMBDA_FUNCTION_NAME=fn-b AWS_LAMBDA_RUNTIME_API=127.0.0.1:2002 sleep 30 &"
              " wait")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_LAMBDA_")}
    zygote = subprocess.Popen(["sh", "-c", script], env=environment)
    started.append(zygote)
    children = wait_for_descendants(zygote, 2)
    trees = procmem.lambent_environment_trees(os.getpid(), "fn-b")
    assert sorted(trees) == sorted([[child] for child in children])


def test_shared_lambent_init_is_left_out(started):
    # A parent named lambent-init that holds two environments belongs to neither.
    script = (
        "import ctypes, os, subprocess\n"
        "ctypes.CDLL(None).prctl(15, b'lambent-init', 0, 0, 0)\n"
        "children = [subprocess.Popen(['sleep', '30'], env={**os.environ,"
        " 'AWS_LAMBDA_FUNCTION_NAME': 'fn-c', 'AWS_LAMBDA_RUNTIME_API': address})"
        " for address in ('127.0.0.1:3001', '127.0.0.1:3002')]\n"
        "[child.wait() for child in children]\n")
    init = subprocess.Popen([sys.executable, "-c", script])
    started.append(init)
    children = wait_for_descendants(init, 2)
    assert procmem.command_name(init.pid) == "lambent-init"
    trees = procmem.lambent_environment_trees(os.getpid(), "fn-c")
    assert sorted(trees) == sorted([[child] for child in children])


def test_tree_memory_counts_each_process(started):
    shell = subprocess.Popen(["sh", "-c", "sleep 30; true"],
                             env=environment_variables("fn-d", "127.0.0.1:4001"))
    started.append(shell)
    wait_for_descendants(shell, 1)
    tree = procmem.lambent_environment_trees(os.getpid(), "fn-d")[0]
    memory = procmem.tree_memory(tree)
    assert memory.processes == 2
    assert memory.rss_kb >= memory.uss_kb >= memory.private_dirty_kb > 0
