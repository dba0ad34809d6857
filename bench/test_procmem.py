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

# Starts `sleep 30` from a process named lambent-init, as Lambent's environment pid 1 runs the
# runtime below it.
FAKE_INIT = (
    "import ctypes, subprocess\n"
    "ctypes.CDLL(None).prctl(15, b'lambent-init', 0, 0, 0)\n"
    "subprocess.Popen(['sleep', '30']).wait()\n"
)


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


def start_fake_environment(started):
    init = subprocess.Popen([sys.executable, "-c", FAKE_INIT])
    started.append(init)
    children = wait_for_descendants(init, 1)
    assert procmem.command_name(init.pid) == "lambent-init"
    return [init.pid, *children]


def test_environment_tree_rooted_at_init(started):
    first = start_fake_environment(started)
    second = start_fake_environment(started)
    trees = procmem.lambent_environment_trees(os.getpid(), "sleep")
    assert sorted(trees) == sorted([first, second])


def test_environment_filtered_by_interpreter(started):
    start_fake_environment(started)
    assert procmem.lambent_environment_trees(os.getpid(), "node") == []


def test_process_not_under_init_left_out(started):
    # A zygote-like parent that is not lambent-init, with a runtime-like child.
    shell = subprocess.Popen(["sh", "-c", "sleep 30; true"])
    started.append(shell)
    wait_for_descendants(shell, 1)
    assert procmem.lambent_environment_trees(os.getpid(), "sleep") == []


def test_tree_memory_counts_each_process(started):
    tree = start_fake_environment(started)
    memory = procmem.tree_memory(tree)
    assert memory.processes == 2
    assert memory.rss_kb >= memory.uss_kb >= memory.private_dirty_kb > 0
